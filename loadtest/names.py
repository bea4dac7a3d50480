"""The names the WebSocket steps carry in locust's statistics, which the verdict reads back.
Free of locust, as are config.py and report.py: the runner and the tests import them, and
importing locust monkey-patches the process's sockets and ssl (gevent)."""

REQUEST_TYPE = "WS"
CONNECT = "connect"
PING = "ping→pong"
