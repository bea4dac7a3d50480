"""Who may open a connection: the rate limit, the cap on a user's open connections, the
one-time token, and the channel's rule; and the rows every connect reads, cached.

``$connect`` is the hottest write path of the app, so its admission is one round trip: the
server-side function ``ws_open_connection`` (migration realtime 0004) takes the advisory
locks, checks for a duplicate connection, counts, spends the token and writes the session and
the attempt, and answers with an ``Outcome``. docs/performance.md measures it;
tests/test_connect_queries.py pins the statement count.

Rate limit: the package counts recent attempts and inserts the new one later, so concurrent
connects all see the same count and all get in. Here the count happens under PostgreSQL
advisory locks per IP address (and per user), held until the connect's statement commits, so
admissions for the same key are serialised across every process and replica sharing the
database.
"""

import enum
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    ChannelPermission,
    ConnectionRateLimit,
    WebSocketSession,
    hash_session_key,
    hash_user_auth,
)

from realtime.row_cache import RowCache

# Saving or deleting a row clears this process's copy at once; other processes see the
# change within ttl_seconds (10 s).
_gateways = RowCache(ApiGateway, "api_id")
_channels = RowCache(ChannelPermission, "channel_name")


def _lock_key(kind: str, value: str) -> int:
    digest = hashlib.blake2b(f"ws-rate-limit:{kind}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _counted_user(user):
    return user if user is not None and user.is_authenticated else None


class Outcome(enum.Enum):
    """What ``ws_open_connection`` decided (its return value)."""

    OPENED = "opened"
    RATE_LIMITED = "rate_limited"
    CONNECTION_LIMIT = "connection_limit"
    CHANNEL_RULE = "channel_rule"
    TOKEN_INVALID = "token_invalid"  # noqa: S105 - an outcome, not a password
    # The connection id has a session already: API Gateway retried a $connect.
    DUPLICATE_OPEN = "duplicate_open"
    DUPLICATE_CLOSED = "duplicate_closed"
    # The cached gateway row is gone: look it up again.
    UNKNOWN_GATEWAY = "unknown_gateway"


@dataclass(frozen=True)
class Limits:
    """The connect limits, as the package's settings and ours name them."""

    max_attempts: int
    window_minutes: int
    max_connections: int
    token_max_age_seconds: int


@dataclass(frozen=True)
class ConnectRequest:
    """One $connect, as far as the admission needs it. ``token`` is None when the view
    requires none; ``channel_allowed`` is the channel rule's verdict for the user."""

    gateway_id: int
    connection_id: str
    ip_address: str
    user: object
    session_key: str | None
    channel: str
    channel_allowed: bool
    token: str | None


def open_connection(request: ConnectRequest, limits: Limits) -> Outcome:
    """Admit and open the connection, or say why not, in one statement (its own transaction
    in autocommit, so the locks are held until the session row is committed).

    Every refusal is decided before the first write; a refused connect spends no token and
    writes no session, only its attempt (as the package records rejected attempts, so a flood
    stays limited). A concurrent duplicate loses on the unique connection id: IntegrityError,
    and nothing of it is written.
    """
    user = _counted_user(request.user)
    keys = {_lock_key("ip", request.ip_address)}
    if user is not None:
        keys.add(_lock_key("user", str(user.pk)))
    now = timezone.now()
    session_key_hash = hash_session_key(request.session_key) if request.session_key else None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ws_open_connection("
            "%s, %s, %s::bigint[], %s::inet, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                request.gateway_id,
                request.connection_id,
                sorted(keys),
                request.ip_address,
                user.pk if user is not None else None,
                now,
                now - timedelta(minutes=limits.window_minutes),
                limits.max_attempts,
                limits.max_connections,
                request.channel_allowed,
                request.token,
                session_key_hash,
                now - timedelta(seconds=limits.token_max_age_seconds),
                request.channel,
                hash_user_auth(user) if user is not None else "",
            ],
        )
        (outcome,) = cursor.fetchone()
    return Outcome(outcome)


def existing_session(connection_id: str) -> Outcome:
    """Whether the session of a connection id that has one is open (a retried $connect
    that lost the race on the unique id to the first)."""
    sessions = WebSocketSession.objects.filter(connection_id=connection_id, connected=True)
    return Outcome.DUPLICATE_OPEN if sessions.exists() else Outcome.DUPLICATE_CLOSED


def gateway(api_id: str) -> ApiGateway | None:
    """The gateway's row, from the per-process cache (``open_connection`` validates it)."""
    return _gateways.get(api_id)


def forget_gateways() -> None:
    _gateways.forget()


def serialise_per_user(kind: str, user) -> None:
    """Take the advisory lock of (kind, user) until the caller's transaction commits: the
    same user's requests of that kind, in every process and replica, then count and insert
    one after another (the package's token limit counts, then inserts)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(kind, str(user.pk))])


def record_attempt(ip_address: str, user, successful: bool) -> None:
    """Rejected attempts are recorded too, as the package does, so a flood stays limited.

    For the connect ``open_connection`` could not record (it lost on the unique connection
    id). Written directly, not with ``ConnectionRateLimit.record_attempt``: that one purges
    expired rows on 1 call in 100 and swallows its errors; the cleanup CronJob
    (``cleanup_tokens``) purges instead.
    """
    ConnectionRateLimit.objects.create(
        ip_address=ip_address, user=_counted_user(user), successful=successful
    )


def channel_permission(channel_name: str) -> ChannelPermission | None:
    """The channel's row, from the per-process cache (a missing row is cached too): every
    connect asks for it, and the rows change only with a deploy or an admin edit."""
    return _channels.get(channel_name)


def forget_channel_permissions() -> None:
    _channels.forget()
