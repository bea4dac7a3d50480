"""Spread integration calls over every address of the upstream name, as a load balancer would.

In docker compose the service name of the web process resolves to one address per replica;
sending each call to the next address lets one connection's callbacks land on different
replicas, which is what happens behind API Gateway and proves the web tier is stateless.
The name is resolved again every few seconds, so replicas that scale in or out are followed.
"""

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import structlog
from yarl import URL

from gateway_emulator.config import Upstream

log = structlog.get_logger(__name__)

Resolve = Callable[[str, int], Awaitable[list[str]]]


async def resolve_all(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class UpstreamPool:
    def __init__(
        self, upstream: Upstream, refresh_seconds: float = 5.0, resolve: Resolve = resolve_all
    ) -> None:
        self._upstream = upstream
        self._refresh_seconds = refresh_seconds
        self._resolve = resolve
        self._addresses: list[str] = []
        self._resolved_at = float("-inf")
        self._turn = 0
        self._lock = asyncio.Lock()

    @property
    def size(self) -> int:
        """How many replicas are known (at least one attempt is always made)."""
        return max(1, len(self._addresses))

    async def url_for(self, url: URL) -> URL:
        """``url`` sent to the next upstream address, over plain HTTP."""
        address = await self._next_address()
        return url.with_scheme("http").with_host(address).with_port(self._upstream.port)

    async def _next_address(self) -> str:
        if self._stale():
            async with self._lock:
                if self._stale():
                    await self._refresh()
        if not self._addresses:
            raise OSError(f"upstream {self._upstream.host} resolves to no address")
        self._turn += 1
        return self._addresses[self._turn % len(self._addresses)]

    def _stale(self) -> bool:
        return time.monotonic() - self._resolved_at >= self._refresh_seconds

    async def _refresh(self) -> None:
        try:
            addresses = await self._resolve(self._upstream.host, self._upstream.port)
        except OSError as error:
            # Keep the last known replicas through a DNS hiccup. With none known yet (the web
            # container is still starting), the next call tries again.
            log.warning("emulator.upstream.unresolved", host=self._upstream.host, error=str(error))
            if not self._addresses:
                return
            addresses = self._addresses
        if addresses != self._addresses:
            log.info("emulator.upstream.resolved", host=self._upstream.host, addresses=addresses)
        self._addresses = addresses
        self._resolved_at = time.monotonic()
