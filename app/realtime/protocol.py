"""Frames, and the protocol versions a release speaks.

Blue/green and rolling deploys run two releases side by side, and clients keep the
JavaScript they loaded, so every frame carries a protocol version ``v``:

- A client says which version it speaks (``"v"`` in its frames; absent means 1). A release
  accepts its own version and the previous one, and answers each client in the version
  the client spoke.
- Frames sent to many clients at once (broadcasts) use the release's version, so a new
  version may only add fields (expand): clients ignore fields they do not know.

Version 2 adds ``sent_at`` (ISO 8601, UTC) to every frame. ``WS_PROTOCOL_VERSION=1`` makes a
release speak only version 1, as the previous release did (the blue/green drill runs it as
"blue").
"""

from datetime import UTC, datetime
from typing import Any

from django.conf import settings


def current_version() -> int:
    return settings.WS_PROTOCOL_VERSION


def accepted_versions() -> frozenset[int]:
    """This release's version and the previous one."""
    current = current_version()
    return frozenset(v for v in (current - 1, current) if v >= 1)


def client_version(body: dict) -> int | None:
    """The version a client's frame speaks, or None if this release does not accept it."""
    version = body.get("v", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        return None
    return version if version in accepted_versions() else None


def frame(kind: str, version: int | None = None, **fields: Any) -> dict[str, Any]:
    version = version or current_version()
    data: dict[str, Any] = {"v": version, "type": kind, **fields}
    if version >= 2:
        data["sent_at"] = datetime.now(UTC).isoformat(timespec="milliseconds")
    return data


def reference(body: dict) -> str | int | None:
    """The client's optional ``ref`` for matching answers to requests (echoed back)."""
    ref = body.get("ref")
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int) or (isinstance(ref, str) and len(ref) <= 64):
        return ref
    return None
