"""The open client connections, by connection id, as API Gateway keeps them."""

import base64
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

# AWS ids are 16 characters of [A-Za-z0-9_=-] ending in "=", e.g. "L0SM9cOFvHcCIhw=": the
# URL-safe base64 of 11 random bytes has exactly that shape.
_ID_BYTES = 11


def new_connection_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(_ID_BYTES)).decode()


@dataclass(slots=True, eq=False)
class Connection:
    connection_id: str
    ws: web.WebSocketResponse
    source_ip: str
    user_agent: str
    # How the client reached the emulator, for X-Forwarded-Proto and X-Forwarded-Port.
    scheme: str
    port: int
    connected_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_active_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Monotonic twin of last_active_at, for the idle timeout.
    last_active: float = field(default_factory=time.monotonic)
    # Why the connection ended, for the log: client, idle_timeout, max_duration, deleted ...
    close_reason: str = "client"

    def touch(self) -> None:
        """A message went either way: the idle timeout starts again."""
        self.last_active_at = datetime.now(UTC)
        self.last_active = time.monotonic()


class ConnectionRegistry:
    """Connections whose $connect succeeded and that have not closed yet."""

    def __init__(self) -> None:
        self._connections: dict[str, Connection] = {}

    def __len__(self) -> int:
        return len(self._connections)

    def add(self, connection: Connection) -> None:
        self._connections[connection.connection_id] = connection

    def get(self, connection_id: str) -> Connection | None:
        return self._connections.get(connection_id)

    def remove(self, connection: Connection) -> bool:
        """Forget the connection; False if it was already gone (closed by someone else)."""
        return self._connections.pop(connection.connection_id, None) is not None

    def all(self) -> list[Connection]:
        return list(self._connections.values())
