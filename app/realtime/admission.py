"""Connection rate limiting that holds under concurrent connects across replicas.

The package counts recent attempts and inserts the new one later, so concurrent connects
all see the same count and all get in. Here the count and the insert happen in one
transaction under a PostgreSQL advisory lock per IP address (and per user), so admissions
for the same key are serialised across every process and replica sharing the database.
"""

import hashlib

from django.db import connection, transaction
from django_aws_api_gateway_websockets.models import ConnectionRateLimit


def _lock_key(kind: str, value: str) -> int:
    digest = hashlib.blake2b(f"ws-rate-limit:{kind}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def admit(ip_address: str, user, max_attempts: int, window_minutes: int):
    """Record an attempt; return it if it is within the limit, else None.

    Rejected attempts are recorded too, as the package does, so a flood stays limited.
    """
    counted_user = user if user is not None and user.is_authenticated else None
    keys = {_lock_key("ip", ip_address)}
    if counted_user is not None:
        keys.add(_lock_key("user", str(counted_user.pk)))
    with transaction.atomic(), connection.cursor() as cursor:
        # Sorted, so two requests never take the same pair of locks in opposite order.
        for key in sorted(keys):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        allowed, _count = ConnectionRateLimit.check_rate_limit(
            ip_address=ip_address,
            user=counted_user,
            max_attempts=max_attempts,
            window_minutes=window_minutes,
        )
        attempt = ConnectionRateLimit.record_attempt(ip_address, counted_user, successful=False)
    return attempt if allowed else None


def mark_successful(attempt) -> None:
    ConnectionRateLimit.objects.filter(pk=attempt.pk).update(successful=True)
