"""$connect, the bare-INSERT baseline and the package's plain WebSocketView $connect, side by
side: capacity (closed loop) with 1 and 2 replicas, pinned and unpinned, and latency against
offered load (open loop) with 2 replicas, pinned."""

import itertools
from collections.abc import Awaitable, Callable

import aiohttp
from websockets.asyncio.client import ClientConnection

from bench.load.pacing import closed_loop, open_loop
from bench.load.stats import LoadResult, highest_rate_within
from bench.load.websocket import close_all, open_browser
from bench.report.figures import Figures
from bench.scenarios.context import Bench
from bench.stack.processes import PACKAGE_TARGET_URL
from devtools.console import say

Load = Callable[[Callable[[int], Awaitable[object]]], Awaitable[LoadResult]]
# The latency target: the highest offered rate whose p99 stays within this.
P99_TARGET_MS = 50.0
# A curve stops at the first rate whose p99 passes this: the rates above only queue more.
SWEEP_STOP_P99_MS = 1000.0


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
    bench.figures.add(f"{prefix}.loadgen_cpu_ms", used.loadgen * 1000 / per)


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
    figures, bench.figures = bench.figures, Figures()
    count = bench.plan.concurrency * 4
    try:
        bench.stack.use_django(2, drop_disconnects=True)
        await measure_inserts(bench, "warm-up.insert", 2, count, closed(count, 8))
        await measure_connects(bench, "warm-up.connect", count, closed(count, 8))
        bench.stack.use_django(2, drop_disconnects=True, target_url=PACKAGE_TARGET_URL)
        await measure_connects(bench, "warm-up.package", count, closed(count, 8))
    finally:
        bench.figures = figures


async def _capacity_round(bench: Bench, label: str, replicas: int) -> None:
    """INSERT, our $connect, the package's $connect: interleaved within each repeat."""
    plan = bench.plan
    inserts, connects = plan.inserts_per_run, plan.connects_per_run
    bench.stack.use_django(replicas, drop_disconnects=True)
    await measure_inserts(
        bench, f"{label}insert.{replicas}", replicas, inserts, closed(inserts, plan.concurrency)
    )
    await measure_connects(
        bench, f"{label}connect.{replicas}", connects, closed(connects, plan.concurrency)
    )
    bench.stack.use_django(replicas, drop_disconnects=True, target_url=PACKAGE_TARGET_URL)
    await measure_connects(
        bench, f"{label}package.{replicas}", connects, closed(connects, plan.concurrency)
    )


async def capacity(bench: Bench) -> None:
    """Pinned (the figures the targets use, no prefix) and unpinned (``unpinned.``)."""
    plan = bench.plan
    await warm_up(bench)
    placements = [("", bench.pinned)]
    if bench.pinned.pinned:
        placements.append(("unpinned.", bench.unpinned))
    else:
        say("one CPU: the unpinned capacity runs would repeat the pinned ones; skipped")
    try:
        for run in range(1, plan.runs + 1):
            for label, placement in placements:
                bench.stack.place(placement)
                for replicas in (1, 2):
                    placed = "pinned" if placement.pinned else "unpinned"
                    say(f"capacity, run {run}/{plan.runs}, {replicas} replica(s), {placed}")
                    await _capacity_round(bench, label, replicas)
    finally:
        bench.stack.place(bench.pinned)


async def _sweep_point(bench: Bench, kind: str, rate: int) -> float:
    """One rate of one curve; returns its p99 in ms."""
    count = max(1, round(rate * bench.plan.sweep_seconds))
    prefix = f"sweep.{kind}.{rate}"
    if kind == "insert":
        await measure_inserts(bench, prefix, 2, count, paced(rate, count))
    else:
        await measure_connects(bench, prefix, count, paced(rate, count))
    return bench.figures.values[f"{prefix}.p99"][-1]


async def latency_against_load(bench: Bench) -> None:
    """Open loop, 2 replicas, pinned; each repeat gives each curve's highest rate with p99
    within the target (``sweep.<kind>.best_rate``)."""
    plan = bench.plan
    bench.stack.use_django(2, drop_disconnects=True)
    for run in range(1, plan.runs + 1):
        p99s: dict[str, dict[int, float]] = {"insert": {}, "connect": {}}
        for rate in plan.sweep_rates:
            for kind, curve in p99s.items():
                if any(p99 > SWEEP_STOP_P99_MS for p99 in curve.values()):
                    continue
                say(f"latency against load, run {run}/{plan.runs}, {kind} at {rate}/s, 2 replicas")
                curve[rate] = await _sweep_point(bench, kind, rate)
        for kind, curve in p99s.items():
            best = highest_rate_within(curve, P99_TARGET_MS)
            bench.figures.add(f"sweep.{kind}.best_rate", best)
            say(f"{kind}: highest rate with p99 ≤ {P99_TARGET_MS:.0f} ms in run {run}: {best}/s")
