"""Broadcast fan-out: from the trigger until every client of the channel has the frame,
ours (``enqueue_broadcast``: the production path) against the package's own
``send_message`` (10 threads), to the same clients, with the web worker's memory growth.

The clients are real emulator connections (frames travel Management API → emulator →
client); their $connect goes to a stand-in and their session rows are written directly,
since opening 10,000 sessions through Django would take minutes of the run.
"""

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass, field

import aiohttp
from django.db import connections
from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from bench.load.websocket import close_all, open_plain
from bench.scenarios.context import Bench
from bench.stack.processes import (
    API_ID,
    HOST,
    peak_rss_mib,
    reset_peak_rss,
    rss_mib,
    total_cpu_seconds,
    worker_pids,
)
from devtools.console import say
from devtools.ports import free_port
from devtools.stand_in import StandIn

CHANNEL = "fanout"
IMPLEMENTATIONS = ("ours", "package")
FANOUT_TIMEOUT_SECONDS = 120
OPEN_CONCURRENCY = 200


@dataclass
class Watch:
    """Counts the clients that received the frame carrying the current marker."""

    marker: str = ""
    expected: int = 0
    received: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self, expected: int) -> str:
        self.marker, self.expected, self.received = secrets.token_hex(8), expected, 0
        self.done.clear()
        return self.marker

    def saw(self, message: str | bytes) -> None:
        if isinstance(message, str) and self.marker and self.marker in message:
            self.received += 1
            if self.received >= self.expected:
                self.done.set()


async def _listen(client: ClientConnection, watch: Watch) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for message in client:
            watch.saw(message)


def _write_sessions(connection_ids: list[str]) -> list[int]:
    """One row per client, in client order; their primary keys, ascending."""
    gateway = ApiGateway.objects.get(api_id=API_ID)
    rows = WebSocketSession.objects.bulk_create(
        [WebSocketSession(connection_id=cid, api_gateway=gateway) for cid in connection_ids],
        batch_size=2000,
    )
    connections.close_all()
    return [row.pk for row in rows]


def _put_in_channel(pks: list[int], size: int) -> None:
    """The first ``size`` clients are in the channel, the others in none."""
    WebSocketSession.objects.filter(pk__range=(pks[0], pks[-1])).update(channel_name="")
    members = WebSocketSession.objects.filter(pk__range=(pks[0], pks[size - 1]))
    members.update(channel_name=CHANNEL)
    connections.close_all()


async def _open_clients(bench: Bench, stand_in: StandIn, count: int) -> list[ClientConnection]:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    port = bench.stack.emulator_port

    async def open_one(number: int) -> ClientConnection:
        async with gate:
            return await open_plain(port, number)

    return list(await asyncio.gather(*(open_one(n) for n in range(count))))


def _connection_ids(stand_in: StandIn, count: int) -> list[str]:
    """Client number → its connection id, from the query string the $connect carried."""
    by_number = {
        int(call.query_string.split("n=", 1)[1]): call.headers["Connectionid"]
        for call in stand_in.calls_to("connect")
    }
    return [by_number[n] for n in range(count)]


async def _fan_out_once(
    bench: Bench, http: aiohttp.ClientSession, watch: Watch, implementation: str, size: int
) -> None:
    replica = bench.stack.replicas[0]
    workers = worker_pids(replica)
    before = {pid: rss_mib(pid) for pid in workers}
    for pid in workers:
        reset_peak_rss(pid)
    emulator_pid = bench.stack.gateway.pid if bench.stack.gateway else None
    cpu_before = (
        total_cpu_seconds(workers),
        total_cpu_seconds([emulator_pid] if emulator_pid else []),
        time.process_time(),
    )
    marker = watch.start(size)
    url = f"{bench.stack.replica_urls(1)[0]}/bench/broadcast/"
    started = time.perf_counter()
    query = {"implementation": implementation, "channel": CHANNEL, "marker": marker}
    async with http.post(url, params=query) as response:
        response.raise_for_status()
    try:
        await asyncio.wait_for(watch.done.wait(), FANOUT_TIMEOUT_SECONDS)
    except TimeoutError:
        bench.figures.expect(False, f"fan-out {implementation} {size}: {watch.received} received")
        return
    seconds = time.perf_counter() - started
    await asyncio.sleep(0.3)  # a duplicate or a frame outside the channel would show now
    bench.figures.expect(
        watch.received == size, f"fan-out {implementation} {size}: {watch.received} frames"
    )
    growth = max(peak_rss_mib(pid) - before[pid] for pid in workers)
    cpu_after = (
        total_cpu_seconds(workers),
        total_cpu_seconds([emulator_pid] if emulator_pid else []),
        time.process_time(),
    )
    web_us, emulator_us, clients_us = (
        (after - before) * 1e6 / size for after, before in zip(cpu_after, cpu_before, strict=True)
    )
    prefix = f"fanout.{implementation}.{size}"
    bench.figures.add(f"{prefix}.seconds", seconds)
    bench.figures.add(f"{prefix}.rate", size / seconds)
    bench.figures.add(f"{prefix}.rss_growth_mib", growth)
    bench.figures.add(f"{prefix}.web_cpu_us", web_us)
    # What the machine's other two parties spent: in production, AWS's and the browsers'.
    bench.figures.add(f"{prefix}.emulator_cpu_us", emulator_us)
    bench.figures.add(f"{prefix}.clients_cpu_us", clients_us)
    say(
        f"{implementation}: {size:,} clients in {seconds:.2f} s "
        f"({size / seconds:,.0f} frames/s), worker RSS +{growth:.1f} MiB"
    )


async def fanout(bench: Bench) -> None:
    plan = bench.plan
    stand_in = StandIn()
    stand_in_port = free_port()
    await stand_in.start(HOST, stand_in_port)
    bench.stack.use_emulator(
        EMULATOR_TARGET_URL=f"http://{HOST}:{stand_in_port}/ws/", EMULATOR_GATEWAY_SECRET=""
    )
    count = plan.fanout_clients
    say(f"fan-out: opening {count:,} emulator connections")
    clients = await _open_clients(bench, stand_in, count)
    connection_ids = _connection_ids(stand_in, count)
    pks = await bench.in_thread(_write_sessions, connection_ids)
    watch = Watch()
    listeners = [asyncio.create_task(_listen(client, watch)) for client in clients]
    try:
        async with aiohttp.ClientSession() as http:
            for size in plan.fanout_sizes:
                await bench.in_thread(_put_in_channel, pks, size)
                for run in range(1, plan.runs + 1):
                    say(f"fan-out to {size:,} clients, run {run}/{plan.runs}")
                    for implementation in IMPLEMENTATIONS:
                        await _fan_out_once(bench, http, watch, implementation, size)
                        await asyncio.sleep(0.5)
    finally:
        say(f"fan-out: closing {count:,} connections")
        await close_all(clients)
        await asyncio.gather(*listeners)
        bench.stack.stop_emulator()
        await stand_in.stop()
