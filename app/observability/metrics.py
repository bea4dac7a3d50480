"""Prometheus metrics: every one the app exports, and the exposition on the ops port.

gunicorn forks workers, so the metrics are kept in prometheus_client's multiprocess mode:
each worker writes its values to files under ``PROMETHEUS_MULTIPROC_DIR`` and the master
sums them when ``/metrics`` is scraped on the ops port (``observability.prometheus``). Only
the workers import this module: a metric created here in the master would write files of
its own. Without that variable (tests, management commands) the values stay in the
process's own registry.

Label values come from enums and fixed sets only (``bounded``): never a token, a connection
id, a user id or a channel name, so a client cannot grow the series. docs/operations.md
lists every metric with its alert, its dashboard panel and its log event.

"""

import os
from collections.abc import Iterable, Sequence

from prometheus_client import Counter, Gauge, Histogram

from observability.prometheus import MULTIPROC_DIR_VARIABLE

# A process with the web pods' environment but no gunicorn master before it (a manage.py
# command, the chart's tests) finds no directory: prometheus_client would fail at the first
# metric below, and the app with it.
if _directory := os.environ.get(MULTIPROC_DIR_VARIABLE):
    os.makedirs(_directory, exist_ok=True)

PREFIX = "wsgateway"
OTHER = "other"

# API Gateway waits 29 s for an integration; the buckets reach past it.
CALLBACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 29, 60)
POST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
FANOUT_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600)
RECIPIENT_BUCKETS = (0, 1, 10, 100, 1_000, 10_000, 100_000)

ROUTES = frozenset({"connect", "default", "disconnect"})
CALLBACK_OUTCOMES = frozenset({"accepted", "refused", "busy", "error"})
POST_OUTCOMES = frozenset({"sent", "gone", "throttled", "failed"})

# A signal per refusal log event (realtime.refusals.Refusal.event); ``reason`` is the
# refusal's reason. Keyed by the event, so a new Refusal event without a counter fails its
# test (tests/test_metrics.py) rather than going uncounted.
REFUSAL_COUNTERS = {
    event: Counter(f"{PREFIX}_{name}_total", help_text, ["reason"])
    for event, name, help_text in (
        ("ws.connect.rejected", "connect_rejected", "$connect refused before the token check."),
        ("ws.connect.rate_limited", "connect_rate_limited", "$connect over the rate limit."),
        (
            "ws.connect.connection_limit",
            "connect_connection_limit",
            "$connect over the per-user connection cap.",
        ),
        ("ws.token.invalid", "token_invalid", "$connect with a missing, used or foreign token."),
        ("ws.permission.denied", "permission_denied", "A channel or handler the user may not use."),
        ("ws.channel.invalid", "channel_invalid", "A channel name outside the allowed form."),
        ("ws.request.rejected", "request_rejected", "Other refused callbacks (400)."),
        ("ws.broadcast.rate_limited", "broadcast_rate_limited", "Broadcasts over the user's rate."),
    )
}
MESSAGE_RATE_LIMITED = Counter(
    f"{PREFIX}_message_rate_limited_total", "$default frames over the connection's budget."
)
GATEWAY_SECRET_INVALID = Counter(
    f"{PREFIX}_gateway_secret_invalid_total", "Callbacks without the right gateway secret."
)
CALLBACK_SECONDS = Histogram(
    f"{PREFIX}_callback_duration_seconds",
    "API Gateway callbacks by route and outcome (accepted 2xx, refused 4xx, busy 503, error).",
    ["route", "outcome"],
    buckets=CALLBACK_BUCKETS,
)
POSTS = Counter(
    f"{PREFIX}_management_api_posts_total",
    "Management API posts by final outcome (after retries).",
    ["outcome"],
)
POST_SECONDS = Histogram(
    f"{PREFIX}_management_api_post_duration_seconds",
    "One Management API post, retries included, by final outcome.",
    ["outcome"],
    buckets=POST_BUCKETS,
)
# Every 429 answer, retried or not: the account's request quota was reached (a fan-out's
# shared rate, BROADCAST_FRAMES_PER_SECOND, is set above what the account has left).
THROTTLED_ANSWERS = Counter(
    f"{PREFIX}_management_api_throttled_total",
    "Management API answers 429 (every attempt, retried or not): the account quota reached.",
)
SEND_FAILED = Counter(
    f"{PREFIX}_send_failed_total",
    "Posts that failed (ws.send.failed) by reason: the AWS error code class.",
    ["reason"],
)
FANOUT_SECONDS = Histogram(
    f"{PREFIX}_broadcast_fanout_duration_seconds",
    "A broadcast fan-out run, from claim to done.",
    buckets=FANOUT_BUCKETS,
)
FANOUT_RECIPIENTS = Histogram(
    f"{PREFIX}_broadcast_fanout_recipients",
    "Connections a fan-out run posted to.",
    buckets=RECIPIENT_BUCKETS,
)
BROADCASTS_FINISHED = Counter(
    f"{PREFIX}_broadcasts_finished_total",
    "Broadcasts finished by this tier: delivered, or failed (given up).",
    ["outcome"],
)
# The state of the database, counted by each web worker at most every METRICS_REFRESH_SECONDS
# (realtime.gauges), never per scrape; the most recent count of any live worker is exported.
SESSIONS = Gauge(
    f"{PREFIX}_sessions",
    "WebSocket sessions by state: connected, stale (connected past API Gateway's 2 h).",
    ["state"],
    multiprocess_mode="mostrecent",
)
BROADCASTS = Gauge(
    f"{PREFIX}_broadcasts",
    "Broadcast rows by status: pending, sending, failed.",
    ["status"],
    multiprocess_mode="mostrecent",
)
MIGRATIONS_PENDING = Gauge(
    f"{PREFIX}_migrations_pending",
    "Migrations on disk the database has not applied.",
    multiprocess_mode="mostrecent",
)
STATE_REFRESHED = Gauge(
    f"{PREFIX}_state_refreshed_timestamp_seconds",
    "When the state gauges were last counted.",
    multiprocess_mode="max",
)
# psycopg_pool's statistics of each worker's pool, summed over the pod's live workers.
DB_POOL = Gauge(
    f"{PREFIX}_db_pool_connections",
    "Database pool connections by state: size (open), available (idle), waiting (requests).",
    ["state"],
    multiprocess_mode="livesum",
)
BUILD_INFO = Gauge(
    f"{PREFIX}_build_info",
    "Always 1: the running release's version, color and WebSocket protocol version.",
    ["version", "color", "protocol_version"],
    multiprocess_mode="max",
)


def bounded(value: str, allowed: Iterable[str]) -> str:
    """``value`` if it is one of ``allowed``, else ``other``: labels stay a fixed set."""
    return value if value in allowed else OTHER


def count_refusal(event: str, reason: str) -> None:
    REFUSAL_COUNTERS[event].labels(reason=reason).inc()


def observe_callback(route: str, status: int, seconds: float) -> None:
    if status < 400:
        outcome = "accepted"
    elif status < 500:
        outcome = "refused"
    elif status == 503:
        outcome = "busy"
    else:
        outcome = "error"
    CALLBACK_SECONDS.labels(route=bounded(route, ROUTES), outcome=outcome).observe(seconds)


def observe_posts(outcome: str, durations: Sequence[float]) -> None:
    """Posts of one outcome, recorded once per chunk: a label lookup per post was a
    measurable part of a fan-out's CPU."""
    outcome = bounded(outcome, POST_OUTCOMES)
    POSTS.labels(outcome=outcome).inc(len(durations))
    histogram = POST_SECONDS.labels(outcome=outcome)
    for seconds in durations:
        histogram.observe(seconds)


def set_build_info(version: str, color: str, protocol_version: int) -> None:
    # Bounded by the deployment: a release has one version and one color.
    BUILD_INFO.labels(
        version=version[:64],
        color=bounded(color, {"blue", "green", ""}) or "none",
        protocol_version=str(protocol_version),
    ).set(1)
