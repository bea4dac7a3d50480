"""The HTTP calls API Gateway's HTTP_PROXY integration makes to Django.

Each call carries the headers the package's view requires (docs/emulator.md, "What API
Gateway sends to Django"); $connect adds the client's handshake headers. Django's answer only
decides whether a handshake completes: like the package's API (no route responses), nothing
of it reaches the client.
"""

import secrets
import time
from collections.abc import Mapping

import aiohttp
import structlog
from aiohttp import web
from yarl import URL

from gateway_emulator.config import EmulatorConfig
from gateway_emulator.connections import Connection
from gateway_emulator.routing import select_route
from gateway_emulator.upstream import UpstreamPool

log = structlog.get_logger(__name__)

# AWS's integration timeout.
INTEGRATION_TIMEOUT_SECONDS = 29
# Concurrent calls to Django; more wait for a free slot (inside the 29 s) instead of
# opening thousands of sockets to a few gunicorn workers.
MAX_CONCURRENT_CALLS = 256
GATEWAY_SECRET_HEADER = "X-Ws-Gateway-Secret"  # noqa: S105 - a header name, not a secret
# Browsers always send it and the package requires it on $connect.
DEFAULT_EXTENSIONS = "permessage-deflate"
_HANDSHAKE = ("Cookie", "Origin", "Sec-WebSocket-Key", "Sec-WebSocket-Version")
# What the client sees when Django cannot be reached or is too slow.
BAD_GATEWAY = 502
GATEWAY_TIMEOUT = 504


def new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        # A new connection per call, as API Gateway's integration makes: a kept-alive socket
        # to a replica that has just stopped would fail mid-request (and lose the frame),
        # whereas a refused connection is safely retried on the next replica.
        connector=aiohttp.TCPConnector(limit=MAX_CONCURRENT_CALLS, force_close=True),
        timeout=aiohttp.ClientTimeout(total=INTEGRATION_TIMEOUT_SECONDS),
        # Django's Set-Cookie answers must not leak from one client's calls into another's.
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("Content-Type",),
    )


def trace_id() -> str:
    """An X-Ray trace id as API Gateway sends it: Root=1-{epoch hex}-{96 random bits}."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


class Integration:
    def __init__(
        self, config: EmulatorConfig, session: aiohttp.ClientSession, upstream: UpstreamPool | None
    ) -> None:
        self._config = config
        self._session = session
        self._upstream = upstream

    async def connect(self, connection: Connection, request: web.Request) -> int:
        """Call $connect with the original query string; its status decides the handshake."""
        url = self._config.target_url / "connect"
        if request.rel_url.raw_query_string:
            url = URL(f"{url}?{request.rel_url.raw_query_string}", encoded=True)
        handshake = {name: request.headers[name] for name in _HANDSHAKE if name in request.headers}
        handshake["Sec-WebSocket-Extensions"] = request.headers.get(
            "Sec-WebSocket-Extensions", DEFAULT_EXTENSIONS
        )
        return await self._call("$connect", url, connection, b"", handshake)

    async def message(self, connection: Connection, payload: bytes) -> None:
        """Relay one frame, as the raw body, to the route its ``action`` selects."""
        route = select_route(payload, self._config.routes)
        url = self._config.routes.get(route) or self._config.target_url / "default"
        await self._call(route, url, connection, payload)

    async def disconnect(self, connection: Connection) -> None:
        await self._call("$disconnect", self._config.target_url / "disconnect", connection, b"")

    async def _call(
        self,
        route: str,
        url: URL,
        connection: Connection,
        body: bytes,
        handshake: Mapping[str, str] | None = None,
    ) -> int:
        """POST to the integration; Django's status, or 502/504 when it cannot answer."""
        headers = {**self._headers(connection, url), **(handshake or {})}
        started = time.monotonic()
        try:
            status = await self._post(url, body, headers)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            timed_out = isinstance(error, TimeoutError)
            log.warning(
                "emulator.integration.error",
                route=route,
                connection_id=connection.connection_id,
                path=url.path,
                error="timeout" if timed_out else f"{type(error).__name__}: {error}",
            )
            return GATEWAY_TIMEOUT if timed_out else BAD_GATEWAY
        log.debug(
            "emulator.integration.call",
            route=route,
            connection_id=connection.connection_id,
            status=status,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        return status

    async def _post(self, url: URL, body: bytes, headers: Mapping[str, str]) -> int:
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

    async def _post_once(self, url: URL, body: bytes, headers: Mapping[str, str]) -> int:
        # API Gateway does not follow redirects: a 3xx refuses the handshake.
        async with self._session.post(
            await self._address(url), data=body, headers=headers, allow_redirects=False
        ) as response:
            await response.read()
            return response.status

    def _headers(self, connection: Connection, url: URL) -> dict[str, str]:
        headers = {
            "Host": url.host_port_subcomponent or "",
            "Connectionid": connection.connection_id,
            "X-Amzn-Apigateway-Api-Id": self._config.api_id,
            "X-Amzn-Trace-Id": trace_id(),
            "X-Forwarded-For": connection.source_ip,
            "X-Real-Ip": connection.source_ip,
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
