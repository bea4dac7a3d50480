"""The open client connections, by connection id, as API Gateway keeps them."""

import asyncio
import base64
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from gateway_emulator.frames import encode_message

# AWS ids are 16 characters of [A-Za-z0-9_=-] ending in "=", e.g. "L0SM9cOFvHcCIhw=": the
# URL-safe base64 of 11 random bytes has exactly that shape.
_ID_BYTES = 11
# AWS answers a post 429 LimitExceededException when "the WebSocket client side buffer is full"
# (botocore's apigatewaymanagementapi model); it does not say how big that buffer is. This is
# how much the emulator holds for a client that does not read (beyond the kernel's buffers).
SEND_BUFFER_BYTES = 1024 * 1024


class SendBufferFull(Exception):
    """The client has not read what was sent to it: the post is refused, not left hanging."""


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
    # The client's socket: posts are written to it directly (gateway_emulator.frames).
    transport: asyncio.Transport | None = None
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

    def send(self, data: bytes, text: bool) -> None:
        """Queue one message for the client without waiting for it to read: ConnectionError
        once it is closing, SendBufferFull when it has not read the earlier ones."""
        transport = self.transport
        if self.ws.closed or transport is None or transport.is_closing():
            raise ConnectionResetError("the connection is closing")
        if transport.get_write_buffer_size() >= SEND_BUFFER_BYTES:
            raise SendBufferFull
        transport.write(encode_message(data, text))
        # Traffic in either direction keeps a connection from the idle timeout.
        self.touch()


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
