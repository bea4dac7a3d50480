"""The state gauges: sessions, broadcasts, pending migrations and the database pool.

Counted by a daemon thread of each web worker every ``METRICS_REFRESH_SECONDS`` (started by
gunicorn's ``post_worker_init``), never when Prometheus scrapes: however many scrapers and
however often, the database sees two small aggregate queries and a migration plan per worker
per interval. The gauges keep the most recent count of any worker (``multiprocess_mode``).

``stale`` is the sweeper's own condition (``sweep_stale_sessions``): connected for longer than
API Gateway keeps a connection. Exported from the web tier, so the CronJob's findings need no
Pushgateway; after each sweep it falls back to zero.
"""

import threading
import time
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import connections
from django.db.models import Count, Q
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession

from health.checks import unapplied_migrations
from observability import metrics
from realtime.broadcasts.models import Broadcast

log = structlog.get_logger(__name__)

BROADCAST_STATES = (
    Broadcast.Status.PENDING,
    Broadcast.Status.SENDING,
    Broadcast.Status.FAILED,
)


def count_state() -> None:
    """Count the sessions, the unfinished and failed broadcasts and the pending migrations."""
    cutoff = timezone.now() - timedelta(seconds=settings.STALE_SESSION_MAX_AGE_SECONDS)
    sessions = WebSocketSession.objects.filter(connected=True).aggregate(
        connected=Count("pk"), stale=Count("pk", filter=Q(created_on__lt=cutoff))
    )
    for state, value in sessions.items():
        metrics.SESSIONS.labels(state=state).set(value)
    counts = dict(
        Broadcast.objects.filter(status__in=BROADCAST_STATES)
        .values_list("status")
        .annotate(Count("pk"))
    )
    for status in BROADCAST_STATES:
        metrics.BROADCASTS.labels(status=status.value).set(counts.get(status, 0))
    metrics.MIGRATIONS_PENDING.set(len(unapplied_migrations()))
    metrics.STATE_REFRESHED.set(time.time())


def sample_pool() -> None:
    """psycopg_pool's statistics of this process's pool (none before its first connection)."""
    pool = getattr(connections["default"], "pool", None)
    if pool is None:
        return
    stats = pool.get_stats()
    metrics.DB_POOL.labels(state="size").set(stats.get("pool_size", 0))
    metrics.DB_POOL.labels(state="available").set(stats.get("pool_available", 0))
    metrics.DB_POOL.labels(state="waiting").set(stats.get("requests_waiting", 0))


def refresh() -> None:
    """One round; a database that is down leaves the last values and logs why."""
    try:
        count_state()
        sample_pool()
    except Exception as error:  # the next round tries again; the thread must not die
        log.warning("metrics.refresh_failed", error=type(error).__name__)
    finally:
        # Give the connection back to the pool: this thread sleeps until the next round.
        connections.close_all()


def _loop(interval: float) -> None:
    while True:
        refresh()
        time.sleep(interval)


def start() -> threading.Thread:
    """Set the build info and start counting, from a daemon thread of this worker."""
    metrics.set_build_info(
        settings.APP_VERSION, settings.DEPLOYMENT_COLOR, settings.WS_PROTOCOL_VERSION
    )
    thread = threading.Thread(
        target=_loop, args=(settings.METRICS_REFRESH_SECONDS,), name="metrics", daemon=True
    )
    thread.start()
    return thread
