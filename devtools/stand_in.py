"""A trivial local stand-in for Django's integration endpoint, in front of which the emulator
is tested (tests/emulator) and measured (bench/emulator_capacity.py, the fan-out scenario): it
answers every call with a set status and records what it got."""

import asyncio
from collections import Counter
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class RecordedCall:
    route: str
    query_string: str
    headers: dict[str, str]
    body: bytes


class StandIn:
    """``POST /ws/{route}``: records the call and answers ``status_for[route]`` (200), with
    ``headers_for[route]``, after ``delay_for[route]`` seconds (none)."""

    def __init__(self, status_for: dict[str, int] | None = None, answer: str = "") -> None:
        self.status_for = status_for or {}
        self.headers_for: dict[str, dict[str, str]] = {}
        self.delay_for: dict[str, float] = {}
        self.answer = answer
        self.calls: list[RecordedCall] = []
        self.counts: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024**2)
        app.router.add_post("/ws/{route}", self._record)
        return app

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def calls_to(self, route: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.route == route]

    async def _record(self, request: web.Request) -> web.Response:
        route = request.match_info["route"]
        self.calls.append(
            RecordedCall(
                route, request.rel_url.raw_query_string, dict(request.headers), await request.read()
            )
        )
        self.counts[route] += 1
        if route in self.delay_for:
            await asyncio.sleep(self.delay_for[route])
        return web.Response(
            status=self.status_for.get(route, 200),
            text=self.answer,
            headers=self.headers_for.get(route),
        )
