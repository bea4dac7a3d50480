"""Message round trip: client frame → emulator → Django's ``ping`` handler → Management API
→ emulator → the same client, at a fixed rate over a few connected clients (2 replicas)."""

import asyncio
import contextlib
import json

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from bench.load.pacing import open_loop
from bench.load.websocket import close_all, open_browser
from bench.scenarios.context import Bench
from devtools.console import say

WARM_UP_PINGS = 20


async def _answer_pongs(client: ClientConnection, waiting: dict[int, asyncio.Future]) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for message in client:
            frame = json.loads(message)
            future = waiting.get(frame.get("ref"))
            if frame.get("type") == "pong" and future is not None and not future.done():
                future.set_result(None)


async def roundtrip(bench: Bench) -> None:
    plan = bench.plan
    bench.stack.use_django(2)
    tokens = await bench.tokens(plan.roundtrip_clients)
    port = bench.stack.emulator_port
    clients = [
        await open_browser(port, bench.browsers[i], tokens[i])
        for i in range(plan.roundtrip_clients)
    ]
    waiting: dict[int, asyncio.Future] = {}
    readers = [asyncio.create_task(_answer_pongs(client, waiting)) for client in clients]
    loop = asyncio.get_running_loop()

    async def ping(index: int) -> None:
        waiting[index] = loop.create_future()
        client = clients[index % len(clients)]
        await client.send(json.dumps({"action": "ping", "v": 2, "ref": index}))
        await waiting[index]

    try:
        # Each worker builds its boto3 client on its first reply: not measured.
        await open_loop(plan.roundtrip_rate, WARM_UP_PINGS, ping)
        for run in range(1, plan.runs + 1):
            say(f"round trip, run {run}/{plan.runs}: {plan.roundtrip_rate} pings/s")
            waiting.clear()
            result = await open_loop(plan.roundtrip_rate, plan.roundtrip_messages, ping)
            bench.figures.expect(
                result.failures == 0,
                f"round trip: {result.failures} of {plan.roundtrip_messages} pongs missing",
            )
            bench.figures.add("roundtrip.p50", result.ms(0.50))
            bench.figures.add("roundtrip.p99", result.ms(0.99))
            say(f"p50 {result.ms(0.5):.1f} ms, p99 {result.ms(0.99):.1f} ms")
    finally:
        await close_all(clients)
        await asyncio.gather(*readers)
