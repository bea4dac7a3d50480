"""$connect and the bare-INSERT baseline, side by side: capacity (closed loop) with 1 and 2
replicas, and latency against offered load (open loop) with 2 replicas."""

import itertools
from collections.abc import Awaitable, Callable

import aiohttp
from websockets.asyncio.client import ClientConnection

from bench.load.pacing import closed_loop, open_loop
from bench.load.stats import LoadResult
from bench.load.websocket import close_all, open_browser
from bench.report.figures import Figures
from bench.scenarios.context import Bench
from devtools.console import say

Load = Callable[[Callable[[int], Awaitable[object]]], Awaitable[LoadResult]]


def _record(bench: Bench, prefix: str, result: LoadResult, count: int) -> None:
    figures = bench.figures
    figures.expect(result.failures == 0, f"{prefix}: {result.failures} of {count} failed")
    figures.add(f"{prefix}.rate", result.rate)
    for name, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        figures.add(f"{prefix}.{name}", result.ms(fraction))
    say(
        f"{prefix}: {result.completed}/{count} in {result.elapsed:.1f} s = "
        f"{result.rate:,.0f}/s, p50 {result.ms(0.5):.1f} ms, p99 {result.ms(0.99):.1f} ms"
    )


def _record_cpu(bench: Bench, prefix: str, before, completed: int) -> None:
    used = bench.stack.cpu_since(before)
    per = max(completed, 1)
    bench.figures.add(f"{prefix}.web_cpu_ms", used.web * 1000 / per)
    bench.figures.add(f"{prefix}.db_cpu_ms", used.database * 1000 / per)
    bench.figures.add(f"{prefix}.emulator_cpu_ms", used.emulator * 1000 / per)


async def measure_inserts(bench: Bench, prefix: str, replicas: int, count: int, load: Load) -> None:
    urls = itertools.cycle(f"{url}/bench/insert/" for url in bench.stack.replica_urls(replicas))
    limit = aiohttp.TCPConnector(limit=bench.plan.concurrency * 2)
    async with aiohttp.ClientSession(connector=limit) as http:

        async def insert(_index: int) -> None:
            async with http.post(next(urls)) as response:
                await response.read()
                response.raise_for_status()

        before = await bench.in_thread(bench.stack.cpu_snapshot)
        result = await load(insert)
        await bench.in_thread(_record_cpu, bench, prefix, before, result.completed)
    _record(bench, prefix, result, count)


async def measure_connects(bench: Bench, prefix: str, count: int, load: Load) -> None:
    """Full connects (gateway secret, rate limit, token, session row) through the emulator;
    the connections stay open until the run ends, then close without $disconnect calls."""
    tokens = await bench.tokens(count)
    clients: list[ClientConnection] = []
    port = bench.stack.emulator_port

    async def connect(index: int) -> None:
        browser = bench.browsers[index % len(bench.browsers)]
        clients.append(await open_browser(port, browser, tokens[index]))

    before = await bench.in_thread(bench.stack.cpu_snapshot)
    result = await load(connect)
    await bench.in_thread(_record_cpu, bench, prefix, before, result.completed)
    _record(bench, prefix, result, count)
    await close_all(clients)


def closed(count: int, concurrency: int) -> Load:
    return lambda operation: closed_loop(count, concurrency, operation)


def paced(rate: int, count: int) -> Load:
    return lambda operation: open_loop(rate, count, operation)


async def warm_up(bench: Bench) -> None:
    """Each worker loads its URLconf, views and pool on its first requests: not measured."""
    say("warming up both replicas (not measured)")
    bench.stack.use_django(2, drop_disconnects=True)
    figures, bench.figures = bench.figures, Figures()
    count = bench.plan.concurrency * 4
    try:
        await measure_inserts(bench, "warm-up.insert", 2, count, closed(count, 8))
        await measure_connects(bench, "warm-up.connect", count, closed(count, 8))
    finally:
        bench.figures = figures


async def capacity(bench: Bench) -> None:
    plan = bench.plan
    await warm_up(bench)
    for run in range(1, plan.runs + 1):
        for replicas in (1, 2):
            say(f"capacity, run {run}/{plan.runs}, {replicas} replica(s)")
            bench.stack.use_django(replicas, drop_disconnects=True)
            inserts, connects = plan.inserts_per_run, plan.connects_per_run
            await measure_inserts(
                bench, f"insert.{replicas}", replicas, inserts, closed(inserts, plan.concurrency)
            )
            await measure_connects(
                bench, f"connect.{replicas}", connects, closed(connects, plan.concurrency)
            )


async def latency_against_load(bench: Bench) -> None:
    plan = bench.plan
    bench.stack.use_django(2, drop_disconnects=True)
    for run in range(1, plan.runs + 1):
        for rate in plan.sweep_rates:
            say(f"latency against load, run {run}/{plan.runs}, {rate}/s, 2 replicas")
            count = max(1, round(rate * plan.sweep_seconds))
            await measure_inserts(bench, f"sweep.insert.{rate}", 2, count, paced(rate, count))
            await measure_connects(bench, f"sweep.connect.{rate}", count, paced(rate, count))
