"""The frames the example feature sends to clients.

Every frame is a JSON object with a protocol version ``v`` and a ``type``, so clients that
loaded older JavaScript can tell what they receive during a rollout.
"""

from typing import Any

PROTOCOL_VERSION = 1
MAX_TEXT_LENGTH = 2000


def frame(kind: str, **fields: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": kind, **fields}


def reference(body: dict) -> str | int | None:
    """The client's optional ``ref`` for matching answers to requests (echoed back)."""
    ref = body.get("ref")
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int) or (isinstance(ref, str) and len(ref) <= 64):
        return ref
    return None
