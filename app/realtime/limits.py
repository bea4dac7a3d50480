"""The per-connection message rate, held across replicas.

A connection's callbacks land on any replica, so the count cannot live in a process: the
message budget is one row per connection, updated in one statement. (The per-user broadcast
rate is ``realtime.broadcasts.queue.may_broadcast``.)
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from realtime.models import MessageBudget


@dataclass(frozen=True)
class Spend:
    """One message's draw on its connection's budget."""

    allowed: bool
    # The first refusal after allowed messages: the one that gets an error frame, so a flood
    # cannot turn each refused message into a Management API call.
    first_refusal: bool


def spend_message_budget(session_id: int, per_second: float, burst: int) -> Spend:
    """Take one token from the connection's bucket (``burst`` tokens, refilled at
    ``per_second``). A refused message leaves the bucket at -1 at the lowest, so a client that
    stops flooding recovers within ``2 / per_second`` seconds.

    One statement, atomic under concurrent callbacks of the same connection: the CTE reads
    the old value under the row's lock, the upsert writes the new one.
    """
    table = MessageBudget._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH old AS (SELECT tokens FROM {table} WHERE session_id = %(id)s FOR UPDATE),
            new AS (
                INSERT INTO {table} AS b (session_id, tokens, updated_at)
                VALUES (%(id)s, %(burst)s - 1, now())
                ON CONFLICT (session_id) DO UPDATE SET
                    tokens = GREATEST(-1, LEAST(
                        %(burst)s,
                        b.tokens + EXTRACT(EPOCH FROM now() - b.updated_at) * %(rate)s
                    ) - 1),
                    updated_at = now()
                RETURNING tokens
            )
            SELECT (SELECT tokens FROM old), (SELECT tokens FROM new)
            """,  # noqa: S608 - the table name from the model, values as parameters
            {"id": session_id, "burst": float(burst), "rate": float(per_second)},
        )
        before, after = cursor.fetchone()
    allowed = after >= 0
    return Spend(allowed=allowed, first_refusal=not allowed and (before is None or before >= 0))


def forget_old_budgets(older_than: timedelta):
    """Budgets untouched that long belong to closed connections (for the cleanup command)."""
    return MessageBudget.objects.filter(updated_at__lt=timezone.now() - older_than)
