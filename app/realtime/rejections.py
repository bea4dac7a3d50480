"""What each refusal of the package's view means, for the logs and for the caller.

The package answers refusals with a 400 and a text; we log each one as a named event the
operations guide monitors, and answer with a fixed text that reveals no configuration
(the package's Host refusal echoes ALLOWED_HOSTS).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Rejection:
    event: str
    reason: str
    public_message: str


# Matched on the start of the package's message, in order.
_KNOWN: tuple[tuple[str, Rejection], ...] = (
    (
        "Too many connection attempts",
        Rejection("ws.connect.rate_limited", "rate_limited", "Too many connection attempts"),
    ),
    (
        "Too many connections",
        Rejection("ws.connect.connection_limit", "connection_limit", "Too many connections"),
    ),
    (
        "Invalid or expired token",
        Rejection("ws.token.invalid", "token_invalid", "Invalid or expired token"),
    ),
    ("Invalid session", Rejection("ws.token.invalid", "no_session", "Invalid or expired token")),
    ("Invalid channel", Rejection("ws.channel.invalid", "channel_invalid", "Invalid channel")),
    (
        "Host is not in AllowedHosts",
        Rejection("ws.connect.rejected", "host_not_allowed", "Invalid host"),
    ),
    (
        "Host is not in Origin",
        Rejection("ws.connect.rejected", "origin_mismatch", "Invalid origin"),
    ),
    (
        "Missing ",
        Rejection("ws.connect.rejected", "missing_connect_headers", "Invalid request headers"),
    ),
    (
        "Invalid request headers",
        Rejection("ws.request.rejected", "missing_headers", "Invalid request headers"),
    ),
    (
        "Invalid connection ID",
        Rejection("ws.request.rejected", "unknown_connection", "Invalid connection ID"),
    ),
    (
        "Invalid request format",
        Rejection("ws.request.rejected", "bad_format", "Invalid request format"),
    ),
    (
        "Unexpected Useragent",
        Rejection("ws.request.rejected", "bad_user_agent", "Unexpected Useragent"),
    ),
)
_OTHER = Rejection("ws.request.rejected", "other", "Bad request")


def classify(message: str) -> Rejection:
    for prefix, rejection in _KNOWN:
        if message.startswith(prefix):
            return rejection
    return _OTHER
