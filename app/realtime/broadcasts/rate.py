"""The rate of Management API posts of all fan-outs of all replicas together.

AWS throttles API Gateway per account and region (10,000 requests per second, a burst of
5,000, shared by every API, WebSocket callbacks included:
https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html). Each replica
limiting itself would let N replicas send N times the rate, so the bucket is one row in
PostgreSQL. Before a chunk of posts, a fan-out reserves the chunk's tokens with one statement
and sleeps until the reservation's start: frames wait, nothing is refused or lost.

The row holds GCRA's one number, ``full_at``: when the bucket is full again. Reserving ``n``
tokens at ``now`` moves it to ``max(full_at, now) + n / rate``; the chunk may start once the
bucket holds ``n``, at ``max(now, new full_at - burst / rate)``. So tokens given out in any
interval never exceed ``rate * its length + burst``, and a waiting fan-out starts the moment
its tokens exist, so the rate is held, not undershot. Times are the server's clock
(``clock_timestamp()``): replicas' clocks may differ, the database's is one.

Hand-written because no maintained library reserves from a bucket in PostgreSQL: ``limits``
has Redis, Memcached and MongoDB backends; pyrate-limiter's PostgreSQL bucket writes a row per
token and only answers "now or not", where a fan-out wants "when".
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

BUCKET = "fanout"

# One statement: the row is created on first use, and concurrent reservations of every replica
# queue on its row lock, each seeing the previous one's ``full_at``. The clock is read again
# after the lock is taken, so the wait does not count the time spent queueing for it. The
# table is FrameRate's.
_RESERVE = """
WITH clock AS (SELECT COALESCE(%(now)s, EXTRACT(EPOCH FROM clock_timestamp())::float8) AS now)
INSERT INTO broadcasts_framerate AS bucket (name, full_at)
SELECT %(name)s, clock.now + %(tokens)s / %(rate)s FROM clock
ON CONFLICT (name) DO UPDATE
SET full_at = GREATEST(bucket.full_at, (SELECT now FROM clock)) + %(tokens)s / %(rate)s
RETURNING GREATEST((SELECT now FROM clock), bucket.full_at - %(burst)s / %(rate)s),
    COALESCE(%(now)s, EXTRACT(EPOCH FROM clock_timestamp())::float8)
"""


@dataclass(frozen=True)
class Reservation:
    """``tokens`` posts may start at ``starts_at``; ``now`` is the database's clock once the
    reservation was made (both in the server's epoch seconds)."""

    tokens: int
    starts_at: float
    now: float

    @property
    def wait_seconds(self) -> float:
        return self.starts_at - self.now


def reserve(
    tokens: int, rate: float, burst: float, now: float | None = None, name: str = BUCKET
) -> Reservation:
    """Reserve ``tokens`` (at most ``burst``) from the bucket ``name`` (``rate`` a second).
    ``now`` replaces the database's clock (tests of the arithmetic)."""
    params = {"name": name, "tokens": float(tokens), "rate": rate, "burst": burst, "now": now}
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE, params)
        starts_at, server_now = cursor.fetchone()
    return Reservation(tokens, starts_at, server_now)


def wait_for(tokens: int) -> float:
    """Block until ``tokens`` posts fit in ``BROADCAST_FRAMES_PER_SECOND``; the seconds waited.
    The bucket holds one chunk (``BROADCAST_CONCURRENCY``): a chunk's posts go out at once."""
    reservation = reserve(
        tokens, settings.BROADCAST_FRAMES_PER_SECOND, float(settings.BROADCAST_CONCURRENCY)
    )
    wait = reservation.wait_seconds
    if wait > 0:
        time.sleep(wait)
    return max(wait, 0.0)
