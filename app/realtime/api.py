"""The real-time layer's public API: all a feature needs, and the only module it imports.

A feature is a Django app that declares its channels, registers its handlers and sends
frames; the layer below it runs every check (docs/architecture.md walks through one)::

    # myfeature/apps.py: ready() imports the module that declares and registers
    from realtime import api

    api.channel("lobby", api.Access.ALLOW_ALL, "Everyone who is signed in")

    @api.handler("ping")
    def ping(message: api.Message) -> None:
        message.reply("pong", connection_id=message.connection_id)

    # anywhere in Django (a view, a signal, a management command):
    api.send_to_user(user, "notification", text="Your export is ready")

Handlers: a client's frame ``{"action": "<name>", ...}`` runs the handler registered under
``<name>`` once the gateway secret, the session and its login, the message budget and the
protocol version have been checked. ``message.reply``, ``join``, ``leave`` and ``broadcast``
answer; raising ``InvalidMessage(field)`` or ``Refused(Refusal…)`` refuses.

Sending from server code: ``send_to_connection``, ``send_to_user`` and ``send_to_channel``
send once the current transaction commits (at once outside one), so a rolled-back change
announces nothing. A direct send (connection, user) is one attempt within
``WS_REPLY_TIMEOUT_SECONDS``; a channel send is a durable broadcast, delivered outside the
request and resumed by ``deliver_broadcasts`` if its process dies. Frames carry the
release's protocol version (``realtime.protocol``).
"""

from typing import Any

from django.db import transaction
from django_aws_api_gateway_websockets.models import (
    ChannelPermission,
    WebSocketSession,
    serialise_message,
)

from realtime.broadcasts.queue import BROADCAST_PERMISSION, enqueue_broadcast
from realtime.channels import Channel, declare, declared
from realtime.handlers import InvalidMessage, Message, Refused, handler
from realtime.management_api import Target, reply
from realtime.protocol import frame
from realtime.refusals import Refusal

Access = ChannelPermission.Access

__all__ = [
    "BROADCAST_PERMISSION",
    "Access",
    "Channel",
    "InvalidMessage",
    "Message",
    "Refusal",
    "Refused",
    "channel",
    "declared_channels",
    "handler",
    "send_to_channel",
    "send_to_connection",
    "send_to_user",
]


def channel(name: str, access: str, description: str) -> Channel:
    """Declare a channel clients may join under ``access`` (a ``ChannelPermission`` row is
    kept for it; rules of kind PERMISSIONS are edited in the admin)."""
    return declare(name, access, description)


def declared_channels() -> list[Channel]:
    """Every channel the features declare, in the order they were declared."""
    return declared()


def send_to_connection(connection_id: str, kind: str, **fields: Any) -> None:
    """Send a frame to one open connection, after commit."""
    sessions = WebSocketSession.objects.filter(connection_id=connection_id)
    transaction.on_commit(lambda: _send(sessions, kind, fields))


def send_to_user(user, kind: str, **fields: Any) -> None:
    """Send a frame to every open connection of ``user``, after commit. Nothing is sent to
    an inactive user."""
    sessions = WebSocketSession.objects.filter(user=user, user__is_active=True)
    transaction.on_commit(lambda: _send(sessions, kind, fields))


def send_to_channel(channel_name: str, kind: str, **fields: Any) -> int:
    """Queue a frame for every connection of a declared channel whose user passes its rule
    when it is delivered; the broadcast's id. Delivered after commit."""
    if channel_name not in {declared_channel.name for declared_channel in declared()}:
        raise ValueError(f"no feature declares channel {channel_name!r}")
    payload = frame(kind, channel=channel_name, **fields)
    return enqueue_broadcast(channel_name, payload).pk


def _send(sessions, kind: str, fields: dict[str, Any]) -> None:
    rows = sessions.filter(connected=True, api_gateway__isnull=False).values_list(
        "pk", "connection_id", "api_gateway__api_id", "api_gateway__stage_name"
    )
    targets = [Target(*row) for row in rows]
    if targets:
        reply(targets, serialise_message(frame(kind, **fields)))
