"""The names the WebSocket steps carry in locust's statistics, which the verdict reads back
(free of locust: the runner must not import it, as its import monkey-patches ssl)."""

REQUEST_TYPE = "WS"
CONNECT = "connect"
PING = "ping→pong"
