"""Deliver one broadcast to every connected session of its channel.

Sessions are read in keyset-paginated batches and posted with bounded concurrency by
``realtime.sending.BulkPoster`` (one asyncio loop, keep-alive connections, signed requests:
about ten times fewer CPU cycles per post than boto3). Gone connections are marked
disconnected.
"""

import time
from collections import Counter, defaultdict
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession, serialise_message

from broadcasts.models import Broadcast
from realtime.audience import receivers
from realtime.sending import BulkPoster, mark_disconnected

log = structlog.get_logger(__name__)


def claim(broadcast_id: int) -> Broadcast | None:
    """Take a pending broadcast for delivery; None if another process already has it."""
    claimed = Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.PENDING).update(
        status=Broadcast.Status.SENDING, claimed_at=timezone.now()
    )
    return Broadcast.objects.get(pk=broadcast_id) if claimed else None


def claim_abandoned(
    pending_after: timedelta, sending_after: timedelta, limit: int
) -> list[Broadcast]:
    """Take broadcasts no process is delivering: pending too long, or claimed long ago.

    SKIP LOCKED lets two copies of the cron job run at once without taking the same row.
    """
    now = timezone.now()
    abandoned = Q(status=Broadcast.Status.PENDING, created_at__lt=now - pending_after) | Q(
        status=Broadcast.Status.SENDING, claimed_at__lt=now - sending_after
    )
    with transaction.atomic():
        rows = list(
            Broadcast.objects.select_for_update(skip_locked=True)
            .filter(abandoned)
            .order_by("created_at")[:limit]
        )
        Broadcast.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=Broadcast.Status.SENDING, claimed_at=now
        )
    return rows


def _recipients(channel_name: str, batch_size: int):
    """Batches of (pk, connection_id, api_id, stage_name), in primary-key order: the
    connected sessions of the channel whose user passes its rule now (realtime.audience)."""
    audience = receivers(channel_name)
    last_pk = 0
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
        yield batch
        last_pk = batch[-1][0]


def deliver(broadcast: Broadcast) -> Counter:
    """Post the broadcast's frame to its channel; record and return the outcome counts."""
    started = time.monotonic()
    # The id lets clients drop a duplicate: delivery is at least once.
    message = serialise_message({**broadcast.payload, "broadcast_id": broadcast.pk})
    outcomes: Counter = Counter()
    with BulkPoster(settings.BROADCAST_CONCURRENCY) as poster:
        for batch in _recipients(broadcast.channel_name, settings.BROADCAST_BATCH_SIZE):
            by_endpoint: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
            for pk, connection_id, api_id, stage_name in batch:
                by_endpoint[(api_id, stage_name)].append((pk, connection_id))
            gone: list[int] = []
            for (api_id, stage_name), sessions in by_endpoint.items():
                connection_ids = [connection_id for _pk, connection_id in sessions]
                results = poster.post_many(api_id, stage_name, connection_ids, message)
                for (pk, _connection_id), outcome in zip(sessions, results, strict=True):
                    outcomes[outcome] += 1
                    if outcome == "gone":
                        gone.append(pk)
            mark_disconnected(gone)
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status=Broadcast.Status.DONE,
        finished_at=timezone.now(),
        sent=outcomes["sent"],
        gone=outcomes["gone"],
        failed=outcomes["failed"],
    )
    log.info(
        "broadcast.delivered",
        broadcast_id=broadcast.pk,
        channel=broadcast.channel_name,
        sent=outcomes["sent"],
        gone=outcomes["gone"],
        failed=outcomes["failed"],
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return outcomes
