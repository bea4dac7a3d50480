"""Queue a broadcast: write the row now, deliver it once the transaction has committed."""

from django.db import transaction

from broadcasts import dispatcher
from broadcasts.models import Broadcast


def enqueue_broadcast(channel_name: str, payload: dict, sender=None) -> Broadcast:
    broadcast = Broadcast.objects.create(channel_name=channel_name, payload=payload, sender=sender)
    transaction.on_commit(lambda: dispatcher.submit(broadcast.pk))
    return broadcast
