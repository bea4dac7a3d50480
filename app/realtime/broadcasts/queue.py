"""Queue a broadcast: write the row now, deliver it once the transaction has committed."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from realtime import admission
from realtime.broadcasts import dispatcher
from realtime.broadcasts.models import Broadcast

# Who may broadcast from a client frame (``Message.broadcast``); server code may always.
BROADCAST_PERMISSION = "broadcasts.send_broadcast"


def enqueue_broadcast(channel_name: str, payload: dict, sender=None) -> Broadcast:
    broadcast = Broadcast.objects.create(channel_name=channel_name, payload=payload, sender=sender)
    transaction.on_commit(lambda: dispatcher.submit(broadcast.pk))
    return broadcast


def may_broadcast(user, per_minute: int) -> bool:
    """Whether the user has sent fewer than ``per_minute`` broadcasts in the last minute.

    Call it inside the transaction that writes the broadcast: the user's advisory lock makes
    the count and the insert of concurrent requests, on any replica, happen one after another.
    """
    admission.serialise_per_user("broadcast", user)
    recent = Broadcast.objects.filter(
        sender=user, created_at__gte=timezone.now() - timedelta(minutes=1)
    )
    return recent.count() < per_minute
