"""The HTTP calls API Gateway's HTTP_PROXY integration makes to Django.

Each call carries the headers the package's view requires (docs/emulator.md, "What API
Gateway sends to Django"); $connect adds the client's own handshake headers, as an HTTP proxy
passes them ("request headers … supported only for the $connect route",
https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-data-mapping.html).
Django's answer only decides whether a handshake completes (and which subprotocol it names):
like the package's API (no route responses), nothing else of it reaches the client. A message
route whose call fails or times out gets API Gateway's error frame instead.
"""

import base64
import contextlib
import enum
import json
import secrets
import time
from collections.abc import Mapping
from typing import NamedTuple

import aiohttp
import structlog
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from gateway_emulator.config import EmulatorConfig
from gateway_emulator.connections import Connection, SendBufferFull
from gateway_emulator.routing import select_route
from gateway_emulator.upstream import UpstreamPool

log = structlog.get_logger(__name__)

# Concurrent calls to Django; more wait for a free slot (inside the 29 s) instead of
# opening thousands of sockets to a few gunicorn workers.
MAX_CONCURRENT_CALLS = 256
GATEWAY_SECRET_HEADER = "X-Ws-Gateway-Secret"  # noqa: S105 - a header name, not a secret
SUBPROTOCOL_HEADER = "Sec-WebSocket-Protocol"
# Hop-by-hop headers (RFC 9110 section 7.6.1) and the ones the gateway sets itself: a proxy
# never passes these on from the client.
_NOT_PASSED = frozenset(
    name.lower()
    for name in (
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE",
        "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length",
        "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Real-Ip",
        "X-Amzn-Trace-Id", "X-Amzn-Apigateway-Api-Id", "Connectionid", GATEWAY_SECRET_HEADER,
    )
)  # fmt: skip
# On routes other than $connect API Gateway sends its own User-Agent, not the client's: the
# package's 4.0 view required this prefix there (_expected_useragent). AWS does not document it.
GATEWAY_USER_AGENT_PREFIX = "AmazonAPIGateway_"


class Failure(enum.Enum):
    """An integration call that got no answer from Django: the handshake's status, and the
    message API Gateway frames for the client on a message route (community reports:
    Kludex/mangum#128, aws/chalice#1406, aws-samples/simple-websockets-chat-app#46)."""

    ERROR = (502, "Internal server error")
    TIMEOUT = (504, "Endpoint request timed out")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def message(self) -> str:
        return self.value[1]


class ConnectAnswer(NamedTuple):
    status: int
    # The subprotocol Django's answer names, echoed to the client in the 101 response.
    subprotocol: str | None = None


def new_session(timeout: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        # A new connection per call, as API Gateway's integration makes: a kept-alive socket
        # to a replica that has just stopped would fail mid-request (and lose the frame),
        # whereas a refused connection is safely retried on the next replica.
        connector=aiohttp.TCPConnector(limit=MAX_CONCURRENT_CALLS, force_close=True),
        # AWS's integration timeout, 29 s (EMULATOR_INTEGRATION_TIMEOUT_SECONDS).
        timeout=aiohttp.ClientTimeout(total=timeout),
        # Django's Set-Cookie answers must not leak from one client's calls into another's.
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("Content-Type", "User-Agent"),
    )


def trace_id() -> str:
    """An X-Ray trace id as API Gateway sends it: Root=1-{epoch hex}-{96 random bits}."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def request_id() -> str:
    """Shaped like the request ids in AWS's error frames (16 URL-safe base64 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode()


def client_headers(request: web.Request) -> CIMultiDict[str]:
    """The client's handshake headers as an HTTP proxy passes them on: all but hop-by-hop
    ones and those the gateway sets itself. Nothing is invented: a client that offered no
    Sec-WebSocket-Extensions reaches Django without one, as on AWS."""
    return CIMultiDict(
        (name, value) for name, value in request.headers.items() if name.lower() not in _NOT_PASSED
    )


class Integration:
    def __init__(
        self, config: EmulatorConfig, session: aiohttp.ClientSession, upstream: UpstreamPool | None
    ) -> None:
        self._config = config
        self._session = session
        self._upstream = upstream

    async def connect(self, connection: Connection, request: web.Request) -> ConnectAnswer:
        """Call $connect with the original query string and the client's handshake headers;
        its status decides the handshake, its Sec-WebSocket-Protocol the subprotocol."""
        url = self._config.target_url / "connect"
        if request.rel_url.raw_query_string:
            url = URL(f"{url}?{request.rel_url.raw_query_string}", encoded=True)
        headers = client_headers(request)
        headers.update(self._headers(connection, url))
        answer = await self._call("$connect", url, connection, b"", headers)
        if isinstance(answer, Failure):
            return ConnectAnswer(answer.status)
        status, answer_headers = answer
        return ConnectAnswer(status, answer_headers.get(SUBPROTOCOL_HEADER))

    async def message(self, connection: Connection, payload: bytes) -> None:
        """Relay one frame, as the raw body, to the route its ``action`` selects. When Django
        cannot answer, the client gets API Gateway's error frame; Django's own answer, whatever
        its status, is not relayed (no route responses)."""
        route = select_route(payload, self._config.routes)
        url = self._config.routes.get(route) or self._config.target_url / "default"
        headers = self._headers(connection, url)
        headers["User-Agent"] = GATEWAY_USER_AGENT_PREFIX + self._config.api_id
        answer = await self._call(route, url, connection, payload, headers)
        if isinstance(answer, Failure):
            _send_error_frame(connection, answer)

    async def disconnect(self, connection: Connection) -> None:
        url = self._config.target_url / "disconnect"
        headers = self._headers(connection, url)
        headers["User-Agent"] = GATEWAY_USER_AGENT_PREFIX + self._config.api_id
        await self._call("$disconnect", url, connection, b"", headers)

    async def _call(
        self, route: str, url: URL, connection: Connection, body: bytes, headers: Mapping
    ) -> tuple[int, Mapping[str, str]] | Failure:
        """POST to the integration: Django's status and headers, or why there were none."""
        started = time.monotonic()
        try:
            answer = await self._post(url, body, headers)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            timed_out = isinstance(error, TimeoutError)
            log.warning(
                "emulator.integration.error",
                route=route,
                connection_id=connection.connection_id,
                path=url.path,
                error="timeout" if timed_out else f"{type(error).__name__}: {error}",
            )
            return Failure.TIMEOUT if timed_out else Failure.ERROR
        log.debug(
            "emulator.integration.call",
            route=route,
            connection_id=connection.connection_id,
            status=answer[0],
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        return answer

    async def _post(self, url: URL, body: bytes, headers: Mapping) -> tuple[int, Mapping[str, str]]:
        """POST, trying the next replica when one refuses the connection.

        A load balancer routes around a stopped target; a refused connection never reached
        Django, so trying the next address cannot run a call twice.
        """
        refused = 0
        while True:
            try:
                return await self._post_once(url, body, headers)
            except aiohttp.ClientConnectorError:
                refused += 1
                # Read after the first call: that one resolves the upstream's addresses.
                if refused >= (self._upstream.size if self._upstream else 1):
                    raise

    async def _post_once(
        self, url: URL, body: bytes, headers: Mapping
    ) -> tuple[int, Mapping[str, str]]:
        # API Gateway does not follow redirects: a 3xx refuses the handshake.
        async with self._session.post(
            await self._address(url), data=body, headers=headers, allow_redirects=False
        ) as response:
            await response.read()
            return response.status, response.headers

    def _headers(self, connection: Connection, url: URL) -> dict[str, str]:
        """What API Gateway and the load balancer in front of the pods add to every call (the
        User-Agent is the client's, as on $connect; the other routes replace it). No
        X-Real-Ip: nginx adds it, an ALB never does, and the app must not need it."""
        headers = {
            "Host": url.host_port_subcomponent or "",
            "Connectionid": connection.connection_id,
            "X-Amzn-Apigateway-Api-Id": self._config.api_id,
            "X-Amzn-Trace-Id": trace_id(),
            "X-Forwarded-For": connection.source_ip,
            "X-Forwarded-Proto": connection.scheme,
            "X-Forwarded-Port": str(connection.port),
            "User-Agent": connection.user_agent,
        }
        if self._config.gateway_secret:
            headers[GATEWAY_SECRET_HEADER] = self._config.gateway_secret
        return headers

    async def _address(self, url: URL) -> URL:
        """Calls for the target's host go to the upstream replicas when one is configured."""
        target = self._config.target_url
        if self._upstream and (url.host, url.port) == (target.host, target.port):
            return await self._upstream.url_for(url)
        return url


def _send_error_frame(connection: Connection, failure: Failure) -> None:
    """``{"message": "Internal server error" | "Endpoint request timed out", "connectionId",
    "requestId"}``, as API Gateway sends it (Failure's sources)."""
    frame = {
        "message": failure.message,
        "connectionId": connection.connection_id,
        "requestId": request_id(),
    }
    # A client that is gone or not reading loses the frame.
    with contextlib.suppress(ConnectionError, SendBufferFull):
        connection.send(json.dumps(frame).encode(), text=True)
