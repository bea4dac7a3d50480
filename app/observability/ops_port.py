"""The ops port: liveness answered by the gunicorn master, never by a request thread.

Liveness must not share the workers' request threads. When a dependency stalls (a table
lock, a hung Management API), every request thread can be waiting out its bounded timeout;
a probe on the request port then queues behind them, and the kubelet restarts pods that
would have recovered by themselves, dropping their in-flight callbacks (the chaos drill
measured it: docs/reliability.md). A thread of the master answers here as long as the
master runs, and the master replaces a worker whose main loop stops (gunicorn's
``timeout``), so "the master answers" is exactly what liveness needs to know.

It also answers ``/metrics``: the workers' Prometheus metrics, aggregated from their files
(``observability.prometheus``). Not behind authentication: the port is reachable only inside
the cluster (the Service and Ingress route the http port only; the chart's metrics Service
and NetworkPolicy name this one), and the metrics carry no secret and no user's data.

wsgiref (standard library) serves it: two routes, a probe every few seconds and a scrape.
"""

import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST

from observability import prometheus

LIVENESS_PATH = "/health/live/"
METRICS_PATH = "/metrics"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:
        """The kubelet probes and Prometheus scrapes every few seconds: no access line."""


def _answer(environ, start_response) -> list[bytes]:
    if environ.get("PATH_INFO") == LIVENESS_PATH:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status": "ok"}']
    if environ.get("PATH_INFO") == METRICS_PATH and prometheus.multiprocess_dir():
        body = prometheus.exposition()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [body]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"Not found"]


def start(port: int) -> WSGIServer:
    """Serve the ops port on all addresses from a daemon thread of the calling process."""
    server = make_server("0.0.0.0", port, _answer, handler_class=_QuietHandler)  # noqa: S104
    threading.Thread(target=server.serve_forever, name="ops-port", daemon=True).start()
    return server
