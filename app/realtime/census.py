"""The header census: which header names API Gateway's calls carry, route by route.

AWS does not document every header a WebSocket HTTP_PROXY integration receives, so the first
real deploy tells: each process logs ``ws.headers.census`` once per route, with the sorted
names it received (never a value), what the layer requires there, and what of that is missing.
The smoke test prints these lines (docs/deployment.md, "The header census").
"""

import threading

import structlog

log = structlog.get_logger(__name__)

# Routes this process has reported; a route is reported by its first call only.
_reported: set[str] = set()
_lock = threading.Lock()


def report(route: str, names: list[str], required: list[str]) -> None:
    with _lock:
        if route in _reported:
            return
        _reported.add(route)
    received = {name.lower() for name in names}
    log.info(
        "ws.headers.census",
        route=route,
        names=sorted(names),
        required=sorted(required),
        missing=sorted(name for name in required if name.lower() not in received),
    )
