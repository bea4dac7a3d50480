"""Broadcast fan-out: from the trigger until every client of the channel has the frame,
ours (``enqueue_broadcast``: the production path) against the package's own
``send_message`` (10 threads), to the same clients, with the web worker's memory growth;
then the rate held: both replicas fan out at once, to half the clients each, under the
shared ``BROADCAST_FRAMES_PER_SECOND``, against the emulator's account-level limiter set to
the same rate with a small burst (AWS's 429 over it).

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
from django.conf import settings
from django.db import connections
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    ChannelPermission,
    WebSocketSession,
)
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from bench.load.websocket import close_all, open_plain
from bench.scenarios.context import Bench
from bench.stack.processes import (
    API_ID,
    FANOUT_FRAMES_PER_SECOND,
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
# The rate phase: one channel per replica.
RATE_CHANNELS = ("fanout-a", "fanout-b")
IMPLEMENTATIONS = ("ours", "package")
FANOUT_TIMEOUT_SECONDS = 120
OPEN_CONCURRENCY = 200
# The emulator's bucket: a few chunks (BROADCAST_CONCURRENCY posts go out at once), where
# AWS's holds 5,000; a rate held only thanks to a large burst would not show here.
THROTTLE_BURST_CHUNKS = 3
# The steady part of a delivery: between these fractions of the frames received.
STEADY = (0.1, 0.9)
THROTTLED_METRIC = "wsgateway_management_api_throttled"


@dataclass
class Watch:
    """Counts the clients that received the frame carrying the current marker."""

    marker: str = ""
    expected: int = 0
    received: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    # When each frame arrived (perf_counter): the rate phase's steady part.
    arrivals: list[float] = field(default_factory=list)

    def start(self, expected: int) -> str:
        self.marker, self.expected, self.received = secrets.token_hex(8), expected, 0
        self.arrivals = []
        self.done.clear()
        return self.marker

    def saw(self, message: str | bytes) -> None:
        if isinstance(message, str) and self.marker and self.marker in message:
            self.received += 1
            self.arrivals.append(time.perf_counter())
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


def _split_in_rate_channels(pks: list[int]) -> int:
    """The first half of the clients in one rate channel, the second half in the other; the
    size of each."""
    half = len(pks) // 2
    for number, channel in enumerate(RATE_CHANNELS):
        # Open, like CHANNEL (bench.run): the clients have no user.
        ChannelPermission.objects.update_or_create(
            channel_name=channel,
            defaults={"access": ChannelPermission.Access.ALLOW_ALL, "description": "bench rate"},
        )
        first, last = pks[number * half], pks[(number + 1) * half - 1]
        WebSocketSession.objects.filter(pk__range=(first, last)).update(channel_name=channel)
    connections.close_all()
    return half


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
        EMULATOR_TARGET_URL=f"http://{HOST}:{stand_in_port}/ws/",
        EMULATOR_GATEWAY_SECRET="",
        EMULATOR_THROTTLE_RATE=str(FANOUT_FRAMES_PER_SECOND),
        EMULATOR_THROTTLE_BURST=str(THROTTLE_BURST_CHUNKS * settings.BROADCAST_CONCURRENCY),
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
            await _rate_held(bench, http, watch, pks)
    finally:
        say(f"fan-out: closing {count:,} connections")
        await close_all(clients)
        await asyncio.gather(*listeners)
        bench.stack.stop_emulator()
        await stand_in.stop()


def steady_rate(arrivals: list[float]) -> float:
    """Frames per second between the STEADY fractions of the arrivals: the ramp-up of the
    first chunks and the tail of the last are left out."""
    ordered = sorted(arrivals)
    first, last = (int(fraction * (len(ordered) - 1)) for fraction in STEADY)
    seconds = ordered[last] - ordered[first]
    return (last - first) / seconds if seconds > 0 else 0.0


async def _throttled_answers(http: aiohttp.ClientSession, bench: Bench) -> float:
    """The 429s the replicas were answered so far, from each master's /metrics."""
    total = 0.0
    for replica in bench.stack.replicas:
        url = f"http://{HOST}:{replica.env['OPS_PORT']}/metrics"
        async with http.get(url) as response:
            text = await response.text()
        for family in text_string_to_metric_families(text):
            if family.name == THROTTLED_METRIC:
                total += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return total


async def _rate_held_once(
    bench: Bench, http: aiohttp.ClientSession, watch: Watch, half: int, configured: float
) -> None:
    """Both replicas fan out at once, each to its half; the total rate the clients saw."""
    throttled_before = await _throttled_answers(http, bench)
    marker = watch.start(2 * half)
    triggers = [
        http.post(
            f"{url}/bench/broadcast/",
            params={"implementation": "ours", "channel": channel, "marker": marker},
        )
        for url, channel in zip(bench.stack.replica_urls(2), RATE_CHANNELS, strict=True)
    ]
    for response in await asyncio.gather(*triggers):
        response.raise_for_status()
        response.release()
    try:
        await asyncio.wait_for(watch.done.wait(), FANOUT_TIMEOUT_SECONDS)
    except TimeoutError:
        bench.figures.expect(False, f"fan-out rate: {watch.received} of {2 * half} received")
        return
    achieved = steady_rate(watch.arrivals)
    throttled = await _throttled_answers(http, bench) - throttled_before
    bench.figures.add("fanout.rate.achieved", achieved)
    bench.figures.add("fanout.rate.ratio", achieved / configured)
    bench.figures.add("fanout.rate.throttled", throttled)
    say(
        f"2 replicas x {half:,} clients: {achieved:,.0f} frames/s in the steady part "
        f"({achieved / configured:.3f} of {configured:,.0f}/s), {throttled:.0f} answered 429"
    )


async def _rate_held(
    bench: Bench, http: aiohttp.ClientSession, watch: Watch, pks: list[int]
) -> None:
    half = await bench.in_thread(_split_in_rate_channels, pks)
    configured = FANOUT_FRAMES_PER_SECOND
    for run in range(1, bench.plan.runs + 1):
        say(f"fan-out rate: 2 replicas at once, {configured:,.0f}/s shared, run {run}")
        await _rate_held_once(bench, http, watch, half, configured)
        await asyncio.sleep(0.5)
