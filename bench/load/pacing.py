"""Closed-loop (a fixed number in flight: capacity) and open-loop (a fixed arrival rate:
latency at a given load) drivers. Open-loop latencies count from each operation's scheduled
start, so a generator that falls behind shows as latency instead of hiding it."""

import asyncio
import time
from collections.abc import Awaitable, Callable

from bench.load.stats import LoadResult

Operation = Callable[[int], Awaitable[object]]
# No single operation may hang a run.
OPERATION_TIMEOUT_SECONDS = 30


async def closed_loop(count: int, concurrency: int, operation: Operation) -> LoadResult:
    indexes = iter(range(count))
    latencies: list[float] = []
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for index in indexes:  # shared by every worker: each index runs once
            started = time.perf_counter()
            try:
                await asyncio.wait_for(operation(index), OPERATION_TIMEOUT_SECONDS)
            except Exception:
                failures += 1
                continue
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadResult(tuple(latencies), failures, time.perf_counter() - started)


async def open_loop(rate: float, count: int, operation: Operation) -> LoadResult:
    loop = asyncio.get_running_loop()
    start = loop.time()
    latencies: list[float] = []
    failures = 0
    finished_at = start

    async def timed(index: int, scheduled: float) -> None:
        nonlocal failures, finished_at
        try:
            await asyncio.wait_for(operation(index), OPERATION_TIMEOUT_SECONDS)
        except Exception:
            failures += 1
            return
        finished_at = max(finished_at, loop.time())
        latencies.append(loop.time() - scheduled)

    tasks = []
    for index in range(count):
        scheduled = start + index / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        tasks.append(asyncio.create_task(timed(index, scheduled)))
    await asyncio.gather(*tasks)
    return LoadResult(tuple(latencies), failures, finished_at - start)
