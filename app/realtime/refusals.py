"""Every refusal the layer answers a callback with: its log event, its reason, its answer.

Operators monitor the events and reasons (docs/operations.md); callers get a fixed text that
reveals no configuration. Code refuses with a member of ``Refusal``, never with a text; the
package's own refusal texts are mapped to members in ``realtime.adapter``.
"""

import enum

from django.http import HttpResponse


class Refusal(enum.Enum):
    """A refusal: (log event, reason, HTTP status, the text the caller gets)."""

    RATE_LIMITED = ("ws.connect.rate_limited", "rate_limited", 400, "Too many connection attempts")
    CONNECTION_LIMIT = (
        "ws.connect.connection_limit",
        "connection_limit",
        400,
        "Too many connections",
    )
    TOKEN_INVALID = ("ws.token.invalid", "token_invalid", 400, "Invalid or expired token")
    NO_SESSION = ("ws.token.invalid", "no_session", 400, "Invalid or expired token")
    CHANNEL_INVALID = ("ws.channel.invalid", "channel_invalid", 400, "Invalid channel")
    HOST_NOT_ALLOWED = ("ws.connect.rejected", "host_not_allowed", 400, "Invalid host")
    ORIGIN_MISMATCH = ("ws.connect.rejected", "origin_mismatch", 400, "Invalid origin")
    MISSING_CONNECT_HEADERS = (
        "ws.connect.rejected",
        "missing_connect_headers",
        400,
        "Invalid request headers",
    )
    CONNECTION_ID_REUSED = (
        "ws.connect.rejected",
        "connection_id_reused",
        409,
        "Connection ID already used",
    )
    MISSING_HEADERS = ("ws.request.rejected", "missing_headers", 400, "Invalid request headers")
    UNKNOWN_CONNECTION = ("ws.request.rejected", "unknown_connection", 400, "Invalid connection ID")
    BAD_FORMAT = ("ws.request.rejected", "bad_format", 400, "Invalid request format")
    BAD_USER_AGENT = ("ws.request.rejected", "bad_user_agent", 400, "Unexpected Useragent")
    OTHER = ("ws.request.rejected", "other", 400, "Bad request")
    CHANNEL_RULE = ("ws.permission.denied", "channel_rule", 403, "Permission Denied")
    NO_BROADCAST_PERMISSION = (
        "ws.permission.denied",
        "no_broadcast_permission",
        403,
        "Permission Denied",
    )
    BROADCAST_RATE_LIMITED = (
        "ws.broadcast.rate_limited",
        "rate_limited",
        429,
        "Too many broadcasts",
    )

    def __init__(self, event: str, reason: str, status: int, public_message: str) -> None:
        self.event = event
        self.reason = reason
        self.status = status
        self.public_message = public_message

    def response(self) -> HttpResponse:
        return HttpResponse(self.public_message, status=self.status)
