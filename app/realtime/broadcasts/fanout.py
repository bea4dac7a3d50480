"""Deliver one broadcast to every connected session of its channel, under a lease.

Sessions are read in keyset-paginated batches and posted in chunks of
``BROADCAST_CONCURRENCY`` by ``realtime.management_api`` under its fan-out policy. After
every chunk one UPDATE, conditional on still owning the row, records the chunk's outcomes,
the last session served (the checkpoint) and renews the lease. So a fan-out slower than its
lease keeps it; a new owner (the cron job, after a process died or stalled past its lease)
resumes after the checkpoint; and an owner that lost its lease stops at its next chunk.
Posts the API could not take are tried again for ``BROADCAST_RETRY_SECONDS`` before they
count as failed. Every round of posts waits for its tokens from the rate all replicas share
(``realtime.broadcasts.rate``). Delivery guarantee (docs/broadcasts.md): each recipient
connected for the whole fan-out gets the frame once, except that a takeover repeats at most
the chunk in flight.
"""

import os
import socket
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession, serialise_message

from observability import metrics
from realtime.audience import receivers
from realtime.broadcasts import rate
from realtime.broadcasts.models import Broadcast
from realtime.management_api import FANOUT, ManagementApi, Target, backoff_seconds

log = structlog.get_logger(__name__)


def new_owner() -> str:
    """Who holds a lease: host, process and thread, and a random part for each claim."""
    host = socket.gethostname()[:30]
    return f"{host}:{os.getpid()}:{threading.get_ident() % 10**6}:{uuid.uuid4().hex[:8]}"


def _lease_until() -> datetime:
    return timezone.now() + timedelta(seconds=settings.BROADCAST_LEASE_SECONDS)


def _taken_now() -> dict:
    """The fields an UPDATE sets to take a broadcast: sending, under a new owner's lease,
    one more claim."""
    return {
        "status": Broadcast.Status.SENDING,
        "claimed_at": timezone.now(),
        "lease_owner": new_owner(),
        "lease_expires_at": _lease_until(),
        "attempts": F("attempts") + 1,
    }


def claim(broadcast_id: int) -> Broadcast | None:
    """Take a pending broadcast for delivery; None if another process already has it."""
    pending = Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.PENDING)
    return Broadcast.objects.get(pk=broadcast_id) if pending.update(**_taken_now()) else None


def claim_abandoned(pending_after: timedelta) -> Broadcast | None:
    """Take the oldest broadcast no process is delivering: pending too long (its process died
    before its commit hook ran), or sending with an expired lease. One that has been claimed
    ``BROADCAST_MAX_ATTEMPTS`` times is marked failed instead and the next one is tried.

    SKIP LOCKED lets two copies of the cron job run at once without taking the same row.
    """
    while True:
        now = timezone.now()
        abandoned = Q(status=Broadcast.Status.PENDING, created_at__lt=now - pending_after) | Q(
            status=Broadcast.Status.SENDING, lease_expires_at__lt=now
        )
        with transaction.atomic():
            row = (
                Broadcast.objects.select_for_update(skip_locked=True)
                .filter(abandoned)
                .order_by("created_at")
                .first()
            )
            if row is None:
                return None
            if row.attempts >= settings.BROADCAST_MAX_ATTEMPTS:
                _give_up(row)
                continue
            Broadcast.objects.filter(pk=row.pk).update(**_taken_now())
        return Broadcast.objects.get(pk=row.pk)


def _give_up(row: Broadcast) -> None:
    Broadcast.objects.filter(pk=row.pk).update(
        status=Broadcast.Status.FAILED, finished_at=timezone.now(), lease_owner=""
    )
    metrics.BROADCASTS_FINISHED.labels(outcome="failed").inc()
    log.error(
        "broadcast.failed",
        broadcast_id=row.pk,
        attempts=row.attempts,
        sent=row.sent,
        gone=row.gone,
        failed=row.failed,
        last_session_pk=row.last_session_pk,
    )


def _recipients(channel_name: str, batch_size: int, after: int):
    """Batches of ``Target`` in primary-key order, after the
    session ``after``: the connected sessions of the channel whose user passes its rule now
    (realtime.audience)."""
    audience = receivers(channel_name)
    last_pk = after
    while True:
        batch = list(
            WebSocketSession.objects.filter(
                audience,
                channel_name=channel_name,
                connected=True,
                pk__gt=last_pk,
                api_gateway__isnull=False,
            )
            .order_by("pk")
            .values_list("pk", "connection_id", "api_gateway__api_id", "api_gateway__stage_name")[
                :batch_size
            ]
        )
        if not batch:
            return
        yield [Target(*row) for row in batch]
        last_pk = batch[-1][0]


def _chunks(batch: list, size: int):
    for start in range(0, len(batch), size):
        yield batch[start : start + size]


def deliver(broadcast: Broadcast) -> Counter:
    """Post the broadcast's frame to its channel, from its checkpoint on, while holding its
    lease; record and return this run's outcome counts."""
    started = time.monotonic()
    owner = broadcast.lease_owner
    # The id lets clients drop a duplicate (a takeover repeats at most the chunk in flight).
    message = serialise_message({**broadcast.payload, "broadcast_id": broadcast.pk})
    outcomes: Counter = Counter()
    chunk_size = settings.BROADCAST_CONCURRENCY
    checkpoint = broadcast.last_session_pk
    with ManagementApi(FANOUT, settings.BROADCAST_CONCURRENCY) as poster:
        batches = _recipients(
            broadcast.channel_name, settings.BROADCAST_BATCH_SIZE, broadcast.last_session_pk
        )
        for batch in batches:
            for chunk in _chunks(batch, chunk_size):
                counts = _serve_chunk(poster, chunk, message, broadcast.pk, owner, checkpoint)
                outcomes.update(counts or {})
                last_pk = chunk[-1].session_pk
                if counts is None or not _checkpoint(broadcast.pk, owner, last_pk, counts):
                    log.warning("broadcast.lease_lost", broadcast_id=broadcast.pk, **outcomes)
                    return outcomes
                checkpoint = last_pk
    finished = Broadcast.objects.filter(
        pk=broadcast.pk, lease_owner=owner, status=Broadcast.Status.SENDING
    ).update(status=Broadcast.Status.DONE, finished_at=timezone.now(), lease_owner="")
    if finished:
        seconds = time.monotonic() - started
        metrics.FANOUT_SECONDS.observe(seconds)
        metrics.FANOUT_RECIPIENTS.observe(sum(outcomes.values()))
        metrics.BROADCASTS_FINISHED.labels(outcome="delivered").inc()
        log.info(
            "broadcast.delivered",
            broadcast_id=broadcast.pk,
            channel=broadcast.channel_name,
            sent=outcomes["sent"],
            gone=outcomes["gone"],
            failed=outcomes["failed"],
            resumed_after=broadcast.last_session_pk,
            duration_ms=round(seconds * 1000, 1),
        )
    return outcomes


def _serve_chunk(
    poster: ManagementApi,
    chunk: list[Target],
    message: str,
    broadcast_id: int,
    owner: str,
    checkpoint: int,
) -> Counter | None:
    """Post to one chunk's sessions, then again to those the API could not take (throttled,
    5xx, unanswered), with back-off and the lease renewed between rounds, for up to
    ``BROADCAST_RETRY_SECONDS``; what is still unavailable then counts as failed. None if the
    lease was lost meanwhile."""
    deadline = time.monotonic() + settings.BROADCAST_RETRY_SECONDS
    counts: Counter = Counter()
    round_number = 0
    while True:
        round_number += 1
        # Every round's posts, retries too, come out of the rate all replicas share.
        rate.wait_for(len(chunk))
        served, chunk = poster.post(chunk, message)
        counts.update(served)
        if not chunk:
            return counts
        if time.monotonic() >= deadline:
            counts["failed"] += len(chunk)
            log.error("broadcast.posts_failed", broadcast_id=broadcast_id, count=len(chunk))
            return counts
        time.sleep(backoff_seconds(FANOUT.attempts + round_number, None))
        if not _checkpoint(broadcast_id, owner, checkpoint, Counter()):
            return None


# One statement per chunk: the ORM's update compiled it anew each time, about a tenth of a
# fan-out's CPU. The table is Broadcast's.
_CHECKPOINT = """
UPDATE broadcasts_broadcast
SET last_session_pk = %(last_pk)s, lease_expires_at = %(lease_until)s,
    sent = sent + %(sent)s, gone = gone + %(gone)s, failed = failed + %(failed)s
WHERE id = %(id)s AND lease_owner = %(owner)s AND status = %(sending)s
"""


def _checkpoint(broadcast_id: int, owner: str, last_pk: int, counts: Counter) -> bool:
    """Record a chunk's outcomes and position and renew the lease, if ``owner`` still holds it."""
    params = {
        "last_pk": last_pk,
        "lease_until": _lease_until(),
        "sent": counts["sent"],
        "gone": counts["gone"],
        "failed": counts["failed"],
        "id": broadcast_id,
        "owner": owner,
        "sending": Broadcast.Status.SENDING.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CHECKPOINT, params)
        return cursor.rowcount == 1
