"""Who may open a connection: the rate limit, the cap on a user's open connections, the
one-time token, and the channel's rule.

Rate limit: the package counts recent attempts and inserts the new one later, so concurrent
connects all see the same count and all get in. Here the count happens under PostgreSQL
advisory locks per IP address (and per user), taken in the caller's transaction and held
until it commits, so admissions for the same key are serialised across every process and
replica sharing the database.

Each helper costs one statement, because ``$connect`` is the hottest write path of the app:
docs/performance.md counts its queries and tests/test_connect_queries.py pins the count.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django_aws_api_gateway_websockets.models import (
    ChannelPermission,
    ConnectionRateLimit,
    WebSocketSession,
    WebSocketToken,
    hash_session_key,
)

from realtime.refusals import Refusal

# How long a process trusts a channel's row. Saving or deleting a row clears this process's
# cache at once; other processes see the change within this many seconds.
CHANNEL_CACHE_SECONDS = 10.0
# Clients choose channel names, so the cache is bounded: past this it starts again empty.
CHANNEL_CACHE_MAX_ENTRIES = 1024
_CHANNEL_FIELDS = ("id", "channel_name", "access", "description", "created_on", "updated_on")
_channel_cache: dict[str, tuple[float, dict | None]] = {}


def _lock_key(kind: str, value: str) -> int:
    digest = hashlib.blake2b(f"ws-rate-limit:{kind}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _counted_user(user):
    return user if user is not None and user.is_authenticated else None


@dataclass(frozen=True)
class Counts:
    """Attempts in the window from the address and by the user, and the user's open sessions."""

    by_ip: int
    by_user: int
    open_sessions: int


def recent_counts(ip_address: str, user, window_minutes: int) -> Counts:
    """One statement: the package's two attempt counts (``check_rate_limit``) and the user's
    connected sessions, which the package does not cap."""
    attempts = ConnectionRateLimit._meta.db_table
    sessions = WebSocketSession._meta.db_table
    user_id = user.pk if user is not None else None
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE ip_address = %(ip)s),
                   count(*) FILTER (WHERE user_id = %(user)s),
                   (SELECT count(*) FROM {sessions} WHERE user_id = %(user)s AND connected)
            FROM {attempts}
            WHERE attempt_time >= %(cutoff)s AND (ip_address = %(ip)s OR user_id = %(user)s)
            """,  # noqa: S608 - table names from the models, values as parameters
            {
                "ip": ip_address,
                "user": user_id,
                "cutoff": timezone.now() - timedelta(minutes=window_minutes),
            },
        )
        return Counts(*cursor.fetchone())


def admit(
    ip_address: str, user, max_attempts: int, window_minutes: int, max_connections: int
) -> Refusal | None:
    """Whether one more connection may open (None) or why not: attempts from the address and
    by the user within the limit, and fewer than ``max_connections`` open sessions for the
    user. Call it inside a transaction: the locks are held until that commits, so record the
    attempt (and write the session) in the same transaction."""
    counted_user = _counted_user(user)
    keys = {_lock_key("ip", ip_address)}
    if counted_user is not None:
        keys.add(_lock_key("user", str(counted_user.pk)))
    with connection.cursor() as cursor:
        # One statement for both locks. The array is sorted and unnest keeps its order, so
        # two requests never take the same pair of locks in opposite order.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(key) FROM unnest(%s::bigint[]) AS key", [sorted(keys)]
        )
    counts = recent_counts(ip_address, counted_user, window_minutes)
    if counts.by_ip >= max_attempts or counts.by_user >= max_attempts:
        return Refusal.RATE_LIMITED
    if counts.open_sessions >= max_connections:
        return Refusal.CONNECTION_LIMIT
    return None


def serialise_per_user(kind: str, user) -> None:
    """Take the advisory lock of (kind, user) until the caller's transaction commits: the
    same user's requests of that kind, in every process and replica, then count and insert
    one after another (the package's token limit counts, then inserts)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(kind, str(user.pk))])


def record_attempt(ip_address: str, user, successful: bool) -> None:
    """Rejected attempts are recorded too, as the package does, so a flood stays limited.

    Written directly, not with ``ConnectionRateLimit.record_attempt``: that one purges expired
    rows on 1 call in 100, inside our transaction and holding our locks, and swallows its
    errors, so a failed purge aborted the transaction and dropped the session row of a
    connect answered 200. The cleanup CronJob (``cleanup_tokens``) purges instead.
    """
    ConnectionRateLimit.objects.create(
        ip_address=ip_address, user=_counted_user(user), successful=successful
    )


def consume_token(token: str, session_key: str, user, max_age_seconds: int) -> bool:
    """Spend a one-time token of this browser session's signed-in user, in one UPDATE.

    The package selects the row FOR UPDATE, saves it, then loads its user (three statements
    and a savepoint). A conditional UPDATE is just as single-use: a concurrent second one
    waits for the row, re-checks ``used`` and matches nothing. Tokens are issued only to the
    signed-in user of the session whose key they are bound to, so requiring that user here
    refuses nothing the package accepts, and ``request.user`` needs no reload.
    """
    if user is None or not user.is_authenticated:
        return False
    spent = WebSocketToken.objects.filter(
        token=token,
        session_key=hash_session_key(session_key),
        user=user,
        used=False,
        created_at__gte=timezone.now() - timedelta(seconds=max_age_seconds),
    ).update(used=True)
    return spent == 1


def channel_permission(channel_name: str) -> ChannelPermission | None:
    """The channel's row, from a per-process cache (a missing row is cached too).

    Every connect asks for it, and the rows change only with a deploy or an admin edit.
    A fresh instance each time, so no two requests share one model object.
    """
    now = time.monotonic()
    cached = _channel_cache.get(channel_name)
    if cached is None or cached[0] <= now:
        if len(_channel_cache) >= CHANNEL_CACHE_MAX_ENTRIES:
            _channel_cache.clear()
        row = ChannelPermission.objects.filter(channel_name=channel_name).values(*_CHANNEL_FIELDS)
        cached = (now + CHANNEL_CACHE_SECONDS, row.first())
        _channel_cache[channel_name] = cached
    values = cached[1]
    return None if values is None else ChannelPermission(**values)


@receiver(post_save, sender=ChannelPermission)
@receiver(post_delete, sender=ChannelPermission)
def forget_channel_permissions(**_kwargs) -> None:
    _channel_cache.clear()
