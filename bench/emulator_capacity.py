"""``python -m bench.emulator_capacity --connections 5000``: what one emulator process holds.

Starts the emulator as a child process (so its memory and CPU are its own) in front of the
stand-in for Django (devtools/stand_in.py), all on 127.0.0.1, then: opens N WebSocket
connections with bounded concurrency, holds them, pushes one Management API POST to each and
checks every client got its own, has every client send one frame ($default), and closes them
all ($disconnect). Prints a table; exits 1 if any connection could not be held or any frame
went missing. The benchmark's emulator scenario (bench/scenarios/emulator.py) runs the same
measurement; docs/emulator.md has the figures of a full run.
"""

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote

import aiohttp
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from yarl import URL

from bench.stack.processes import (
    AWS_ACCESS_KEY_ID,
    AWS_REGION,
    AWS_SECRET_ACCESS_KEY,
    HOST,
    cpu_seconds,
    emulator,
    peak_rss_mib,
    raise_open_files_limit,
    rss_mib,
)
from devtools.console import say
from devtools.ports import free_port
from devtools.stand_in import StandIn

STAGE = "capacity"
PHASE_TIMEOUT_SECONDS = 30
# The whole run stops here, whatever it has measured by then.
RUN_TIMEOUT_SECONDS = 115


@dataclass
class CapacityFigures:
    requested: int
    opened: int = 0
    open_seconds: float = 0.0
    # The emulator's CPU time over the wall time of the opening: below 100 % means the
    # load generator, not the emulator, set the pace.
    open_cpu_share: float = 0.0
    held: int = 0
    pushed: int = 0
    push_seconds: float = 0.0
    relayed: int = 0
    relay_seconds: float = 0.0
    disconnects: int = 0
    rss_mib: float = 0.0
    peak_rss_mib: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        n = self.requested
        return self.held == n and self.pushed == n and self.relayed == n and self.disconnects == n

    def table(self) -> str:
        def rate(count: int, seconds: float) -> str:
            return f"{count / seconds:,.0f}/s" if seconds else "-"

        rows = [
            ("connections requested", f"{self.requested:,}"),
            ("connections opened", f"{self.opened:,}"),
            ("connections held", f"{self.held:,}"),
            ("open rate", rate(self.opened, self.open_seconds)),
            ("  emulator CPU busy while opening", f"{self.open_cpu_share:.0%}"),
            ("Management API posts delivered", f"{self.pushed:,}"),
            ("  delivery rate (POST -> client)", rate(self.pushed, self.push_seconds)),
            ("client frames relayed to $default", f"{self.relayed:,}"),
            ("  relay rate (client -> Django)", rate(self.relayed, self.relay_seconds)),
            ("$disconnect calls", f"{self.disconnects:,}"),
            ("emulator RSS holding all", f"{self.rss_mib:,.1f} MiB"),
            ("emulator peak RSS", f"{self.peak_rss_mib:,.1f} MiB"),
            ("emulator CPU time, whole run", f"{self.cpu_seconds:,.1f} s"),
            ("result", "PASS" if self.ok else "FAIL"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


async def wait_for(condition, timeout: float = PHASE_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def signed_post(port: int, connection_id: str, text: str) -> tuple[str, dict[str, str], bytes]:
    """A PostToConnection request signed with SigV4 by botocore, as boto3 would send it."""
    url = f"http://{HOST}:{port}/{STAGE}/@connections/{quote(connection_id, safe='')}"
    request = AWSRequest("POST", url, data=text.encode())
    credentials = Credentials(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
    SigV4Auth(credentials, "execute-api", AWS_REGION).add_auth(request)
    return url, dict(request.headers), request.body


class Run:
    def __init__(self, connections: int, concurrency: int, hold: float, log_dir: Path) -> None:
        self.figures = CapacityFigures(connections)
        self.concurrency = concurrency
        self.hold = hold
        self.log_dir = log_dir
        self.stand_in = StandIn()
        self.port = free_port()
        self.pid = 0  # the emulator's
        self.clients: dict[int, ClientConnection] = {}

    async def measure(self) -> CapacityFigures:
        stand_in_port = free_port()
        await self.stand_in.start(HOST, stand_in_port)
        gateway = emulator(
            self.port,
            self.log_dir,
            EMULATOR_STAGE=STAGE,
            EMULATOR_TARGET_URL=f"http://{HOST}:{stand_in_port}/ws/",
            # The figures of docs/emulator.md are at the emulator's default level.
            LOG_LEVEL="INFO",
        )
        try:
            gateway.start()
            self.pid = gateway.pid
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.concurrency)
            ) as http:
                await self._open()
                await self._hold(http)
                await self._push(http)
                await self._relay()
                await self._close()
            self.figures.cpu_seconds = cpu_seconds(self.pid)
        finally:
            gateway.stop()
            await self.stand_in.stop()
        return self.figures

    async def _open(self) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def open_one(n: int) -> None:
            async with gate:
                self.clients[n] = await connect(
                    f"ws://{HOST}:{self.port}/{STAGE}?n={n}",
                    compression=None,
                    ping_interval=None,
                    open_timeout=PHASE_TIMEOUT_SECONDS,
                )

        cpu_before, started = cpu_seconds(self.pid), time.monotonic()
        await asyncio.gather(
            *(open_one(n) for n in range(self.figures.requested)), return_exceptions=True
        )
        self.figures.open_seconds = time.monotonic() - started
        self.figures.open_cpu_share = (
            cpu_seconds(self.pid) - cpu_before
        ) / self.figures.open_seconds
        self.figures.opened = len(self.clients)

    async def _hold(self, http: aiohttp.ClientSession) -> None:
        await asyncio.sleep(self.hold)
        async with http.get(f"http://{HOST}:{self.port}/health") as response:
            open_at_emulator = (await response.json())["connections"]
        open_here = sum(client.state is State.OPEN for client in self.clients.values())
        self.figures.held = min(open_at_emulator, open_here)
        self.figures.rss_mib = rss_mib(self.pid)

    def _connection_ids(self) -> dict[int, str]:
        """Client number -> connection id, from the query string $connect forwarded."""
        return {
            int(parse_qs(call.query_string)["n"][0]): call.headers["Connectionid"]
            for call in self.stand_in.calls_to("connect")
        }

    async def _push(self, http: aiohttp.ClientSession) -> None:
        ids = self._connection_ids()

        async def expect(n: int, client: ClientConnection) -> bool:
            try:
                return await client.recv() == f"push {n}"
            except ConnectionClosed:  # the client was not held: counted as not received
                return False

        # Signed before the clock starts: the emulator verifies SigV4, the load generator's
        # signing is not what is measured.
        requests = {
            n: signed_post(self.port, ids[n], f"push {n}") for n in self.clients if n in ids
        }

        async def post(n: int) -> None:
            url, headers, body = requests[n]
            async with http.post(URL(url, encoded=True), data=body, headers=headers) as response:
                await response.read()

        receivers = [asyncio.ensure_future(expect(n, client)) for n, client in self.clients.items()]
        started = time.monotonic()
        await asyncio.gather(*(post(n) for n in requests), return_exceptions=True)
        done, pending = await asyncio.wait(receivers, timeout=PHASE_TIMEOUT_SECONDS)
        self.figures.push_seconds = time.monotonic() - started
        for task in pending:
            task.cancel()
        self.figures.pushed = sum(task.result() for task in done)

    async def _relay(self) -> None:
        started = time.monotonic()
        await asyncio.gather(
            *(client.send('{"action": "load"}') for client in self.clients.values()),
            return_exceptions=True,
        )
        await wait_for(lambda: self.stand_in.counts["default"] >= len(self.clients))
        self.figures.relay_seconds = time.monotonic() - started
        self.figures.relayed = self.stand_in.counts["default"]
        self.figures.peak_rss_mib = peak_rss_mib(self.pid)

    async def _close(self) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def close_one(client: ClientConnection) -> None:
            async with gate:
                await client.close()

        await asyncio.gather(
            *(close_one(client) for client in self.clients.values()), return_exceptions=True
        )
        await wait_for(lambda: self.stand_in.counts["disconnect"] >= len(self.clients))
        self.figures.disconnects = self.stand_in.counts["disconnect"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.emulator_capacity", description=__doc__)
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=200, help="handshakes in flight")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to hold them all")
    args = parser.parse_args(argv)
    raise_open_files_limit()
    log_dir = Path(tempfile.mkdtemp(prefix="emulator-capacity-"))
    say(f"{args.connections:,} connections, {args.concurrency} in flight; log in {log_dir}")
    run = Run(args.connections, args.concurrency, args.hold, log_dir)
    try:
        asyncio.run(asyncio.wait_for(run.measure(), RUN_TIMEOUT_SECONDS))
    except TimeoutError:
        say(f"stopped after {RUN_TIMEOUT_SECONDS} s: the figures measured so far", sys.stderr)
    print(run.figures.table())
    return 0 if run.figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
