"""Message handlers: how features register them, and what a handler gets.

A client's frame ``{"action": "<name>", "v": <version>, ...}`` reaches the handler
registered under ``<name>``, after the layer has checked the gateway secret, the
connection's session and login, its message budget and its protocol version. A handler gets
a ``Message``: the frame, the sender, and the ways to answer. It refuses by raising
``Refused`` (the layer logs it, tells the client in an error frame, answers the callback).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from realtime.refusals import Refusal

Handler = Callable[["Message"], None]

_handlers: dict[str, Handler] = {}


class Refused(Exception):
    """A handler's "no": the callback answers ``refusal`` and the client gets an error frame
    saying ``error`` (none when empty)."""

    def __init__(self, refusal: Refusal, error: str = "") -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal
        self.error = error


class InvalidMessage(Refused):
    """The frame lacks a field or has one of the wrong kind (a 400, no error frame)."""

    def __init__(self, field: str) -> None:
        super().__init__(Refusal.BAD_FORMAT)
        self.field = field


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of ``{"action": name}``. Names are unique."""

    def register(function: Handler) -> Handler:
        if name in _handlers and _handlers[name] is not function:
            raise ValueError(f"two handlers for action {name!r}")
        _handlers[name] = function
        return function

    return register


def registered(name: str) -> Handler | None:
    return _handlers.get(name)


def names() -> frozenset[str]:
    return frozenset(_handlers)


@dataclass
class Message:
    """One client frame, as a handler sees it. The answering methods are the view's."""

    body: dict[str, Any]
    user: Any
    connection_id: str
    channel: str
    version: int
    _view: Any

    def reply(self, kind: str, **fields: Any) -> None:
        """Answer the sender in its protocol version, echoing its ``ref``."""
        self._view.reply(kind, **fields)

    def join(self, channel: str) -> None:
        """Move the sender's connection to ``channel``; ``Refused`` unless its rule allows."""
        self._view.join(channel)
        self.channel = channel

    def leave(self) -> None:
        """Leave the current channel; the connection stays open, in no channel."""
        self._view.leave()
        self.channel = ""

    def broadcast(self, channel: str, kind: str, **fields: Any) -> int:
        """Queue a frame for every connection of ``channel``; its broadcast id. The sender
        needs the broadcast permission, must pass the channel's rule and stay within the
        per-user broadcast rate, else ``Refused``."""
        return self._view.broadcast(channel, kind, **fields)


@handler("heartbeat")
def heartbeat(_message: Message) -> None:
    """A client's keep-alive, answered with nothing: API Gateway closes a connection idle
    for 10 minutes
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html).
    Only a data frame is sure to count: a browser cannot send a ping frame, and AWS does
    not say that one resets the idle timer."""
