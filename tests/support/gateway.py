"""Calls into Django exactly as API Gateway makes them (docs/emulator.md, "What API Gateway
sends to Django")."""

import secrets
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.test import Client

API_ID = "testapi123"
STAGE = "test"
INTEGRATION_HOST = "localhost:8000"
ORIGIN = "http://localhost:8000"
GATEWAY_SECRET = "test-gateway-secret-0123456789abcdefghijklmnop"


def new_connection_id() -> str:
    """An id shaped like AWS's: 16 characters of [A-Za-z0-9_=-]."""
    return uuid.uuid4().hex[:14] + "A="


def callback_headers(
    connection_id: str, *, secret: str | None = GATEWAY_SECRET, source_ip: str = "203.0.113.7"
) -> dict[str, str]:
    """The headers API Gateway's HTTP_PROXY integration sends on every route."""
    headers = {
        "Host": INTEGRATION_HOST,
        "X-Forwarded-For": source_ip,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
        "X-Real-Ip": source_ip,
        "Connectionid": connection_id,
        "User-Agent": "Mozilla/5.0 (test browser)",
        "X-Amzn-Apigateway-Api-Id": API_ID,
        "X-Amzn-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
    }
    if secret is not None:
        headers["X-Ws-Gateway-Secret"] = secret
    return headers


def connect_headers(connection_id: str, cookie: str, **kwargs) -> dict[str, str]:
    """$connect adds the client's handshake headers."""
    return {
        **callback_headers(connection_id, **kwargs),
        "Cookie": cookie,
        "Origin": ORIGIN,
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        "Sec-WebSocket-Key": secrets.token_urlsafe(16),
        "Sec-WebSocket-Version": "13",
    }


@dataclass
class GatewayCaller:
    """Drives the callbacks through Django's test client (middleware and all)."""

    client: Client = field(default_factory=Client)

    def post(self, path: str, headers: dict[str, str], body: bytes = b""):
        # The test client sets no Content-Length for an empty body; API Gateway always does.
        return self.client.post(
            path, data=body, content_type="", headers=headers, CONTENT_LENGTH=str(len(body))
        )

    def connect(self, connection_id: str, cookie: str, query: dict[str, str], **kwargs):
        return self.post(
            f"/ws/connect?{urlencode(query)}", connect_headers(connection_id, cookie, **kwargs)
        )

    def message(self, connection_id: str, body: str, **kwargs):
        return self.post("/ws/default", callback_headers(connection_id, **kwargs), body.encode())

    def disconnect(self, connection_id: str, **kwargs):
        return self.post("/ws/disconnect", callback_headers(connection_id, **kwargs))
