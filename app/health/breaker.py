"""While the database is unreachable, answer 503 at once instead of queueing every request.

Without it, each request of an outage waits the pool's timeout (DB_POOL_TIMEOUT) on a
gunicorn thread; calls keep arriving faster than the threads free up, so they queue, and
after the database is back the queue of calls API Gateway has long given up on takes tens
of seconds to drain (the chaos drill measured 37 s after a 20 s outage, docs/reliability.md).

Each process keeps one breaker. A request that fails to reach the database (no connection
from the pool, connection refused or closed) opens it: later requests answer 503 with
Retry-After, except one trial request every DB_BREAKER_RETRY_SECONDS; a request that reaches
the database closes it. A lock or statement timeout (DB_LOCK_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS)
is about one table, not the database: that request answers 503 too (the database was busy, the
code is not broken), and the breaker stays closed. The probes (/health/) always ask the
database themselves.

Written here rather than with pybreaker: pybreaker holds its lock for the whole guarded
call, which would serialise a threaded server's requests.
"""

import sys
import threading
import time
from collections.abc import Callable

import psycopg
import structlog
from django.conf import settings
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse
from psycopg_pool import PoolTimeout

log = structlog.get_logger(__name__)

_DATABASE_ERROR = "_database_error"  # the request attribute: "unreachable" or "busy"
# SQLSTATE classes that mean the server went away: connection exceptions, shutdown.
_GONE_STATES = ("08", "57P01", "57P02", "57P03")


def is_unreachable(error: BaseException | None) -> bool:
    """A Django OperationalError caused by no connection, not by one slow table."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if isinstance(cause, PoolTimeout):
        return True
    state = getattr(cause, "sqlstate", None)
    return isinstance(cause, psycopg.OperationalError) and (
        state is None or state.startswith(_GONE_STATES)
    )


class Breaker:
    def __init__(self, retry_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self.open = False
        self._next_trial = 0.0

    def admits(self) -> bool:
        """Closed; or open and it is time for the next trial request (this one)."""
        with self._lock:
            if not self.open:
                return True
            now = self._clock()
            if now < self._next_trial:
                return False
            self._next_trial = now + self._retry_seconds
            return True

    def record(self, reached: bool) -> None:
        with self._lock:
            if reached == (not self.open):
                return
            self.open = not reached
            self._next_trial = self._clock() + self._retry_seconds
        if reached:
            log.info("db.breaker.closed")
        else:
            log.warning("db.breaker.opened", retry_seconds=self._retry_seconds)


def mark_database_error(sender, request: HttpRequest | None = None, **_kwargs) -> None:
    """got_request_exception receiver: flag the request whose exception (the one being
    handled) came from the database, and whether it was lost or only busy."""
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, OperationalError):
        setattr(request, _DATABASE_ERROR, "unreachable" if is_unreachable(error) else "busy")


def unavailable() -> HttpResponse:
    return HttpResponse("Database unavailable, try again", status=503, headers={"Retry-After": "1"})


class DatabaseBreakerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.breaker = Breaker(settings.DB_BREAKER_RETRY_SECONDS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/health/"):
            return self.get_response(request)
        if not self.breaker.admits():
            return unavailable()
        response = self.get_response(request)
        error = getattr(request, _DATABASE_ERROR, None)
        if error:
            if error == "unreachable":
                self.breaker.record(reached=False)
            return unavailable()
        # Django closes the request's connection after the response: one held now was
        # obtained, so the database answered.
        if connection.connection is not None:
            self.breaker.record(reached=True)
        return response
