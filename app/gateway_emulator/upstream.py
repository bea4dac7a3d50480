"""Spread integration calls over every replica of the upstreams, as a load balancer would.

In docker compose the service name of the web process resolves to one address per replica;
sending each route's calls to the next address in turn lets one connection's callbacks land
on different replicas, which is what happens behind API Gateway and proves the web tier is
stateless.
The names are resolved again every few seconds, so replicas that scale in or out are
followed. With an upstream file, the list itself is read again too: rewriting the file
moves the traffic, as flipping a Kubernetes Service's selector does.
"""

import asyncio
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog
from yarl import URL

from gateway_emulator.config import EmulatorConfig, Upstream, parse_upstreams

log = structlog.get_logger(__name__)

Resolve = Callable[[str, int], Awaitable[list[str]]]
Target = tuple[str, int]  # (address, port)


async def resolve_all(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class UpstreamPool:
    def __init__(
        self,
        upstreams: Callable[[], tuple[Upstream, ...]],
        refresh_seconds: float = 5.0,
        resolve: Resolve = resolve_all,
    ) -> None:
        self._upstreams = upstreams
        self._refresh_seconds = refresh_seconds
        self._resolve = resolve
        self._targets: list[Target] = []
        self._resolved_at = float("-inf")
        self._turns: Counter[str] = Counter()
        self._lock = asyncio.Lock()

    @classmethod
    def from_config(cls, config: EmulatorConfig) -> "UpstreamPool | None":
        if config.upstream_file:
            path = Path(config.upstream_file)
            return cls(lambda: parse_upstreams(path.read_text()), config.upstream_refresh)
        if config.upstreams:
            return cls(lambda: config.upstreams, config.upstream_refresh)
        return None

    @property
    def size(self) -> int:
        """How many replicas are known (at least one attempt is always made)."""
        return max(1, len(self._targets))

    async def url_for(self, url: URL) -> URL:
        """``url`` sent to the next upstream replica for its route, over plain HTTP."""
        address, port = await self._next_target(url.path)
        return url.with_scheme("http").with_host(address).with_port(port)

    async def _next_target(self, route: str) -> Target:
        if self._stale():
            async with self._lock:
                if self._stale():
                    await self._refresh()
        if not self._targets:
            raise OSError("the upstream resolves to no address")
        # A turn per route (URL path): each route's calls go round the replicas whatever calls
        # of other routes come between them, so a smoke test's two $connects reach both.
        self._turns[route] += 1
        return self._targets[self._turns[route] % len(self._targets)]

    def _stale(self) -> bool:
        return time.monotonic() - self._resolved_at >= self._refresh_seconds

    async def _refresh(self) -> None:
        try:
            targets = [
                (address, upstream.port)
                for upstream in self._upstreams()
                for address in await self._resolve(upstream.host, upstream.port)
            ]
        except (OSError, ValueError) as error:
            # Keep the last known replicas through a DNS hiccup or a half-written file. With
            # none known yet (the web container is still starting), the next call tries again.
            log.warning("emulator.upstream.unresolved", error=str(error))
            if not self._targets:
                return
            targets = self._targets
        if targets != self._targets:
            log.info("emulator.upstream.resolved", targets=[f"{a}:{p}" for a, p in targets])
        self._targets = targets
        self._resolved_at = time.monotonic()
