"""The example feature's handlers: what clients call with ``{"action": "<name>", ...}``.

Only the feature's own logic: the layer has checked the caller before a handler runs, and
``join`` and ``broadcast`` apply the channel rules, the broadcast permission and its rate.
"""

from realtime import api

MAX_TEXT_LENGTH = 2000


@api.handler("ping")
def ping(message: api.Message) -> None:
    """Answer with the caller's connection id."""
    message.reply("pong", connection_id=message.connection_id)


@api.handler("join")
def join(message: api.Message) -> None:
    """Move this connection to ``channel``."""
    message.join(message.body.get("channel"))
    message.reply("joined", channel=message.channel)


@api.handler("leave")
def leave(message: api.Message) -> None:
    """Leave the current channel; the connection stays open, in no channel."""
    message.leave()
    message.reply("left")


@api.handler("broadcast")
def broadcast(message: api.Message) -> None:
    """Send ``text`` to every connection in ``channel`` (default: the caller's)."""
    channel = message.body.get("channel", message.channel)
    text = message.body.get("text")
    if not isinstance(text, str) or not text or len(text) > MAX_TEXT_LENGTH:
        raise api.InvalidMessage("text")
    broadcast_id = message.broadcast(channel, "broadcast", text=text)
    message.reply("broadcast_queued", broadcast_id=broadcast_id, channel=channel)
