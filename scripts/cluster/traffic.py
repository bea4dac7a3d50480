"""WebSocket clients on this machine, through the in-cluster gateway emulator (make cluster-test).

The clients are the blue/green drill's (drill/clients.py): a signed-in session hands out
tokens, each client connects to the emulator's Service address (kube-proxy on this machine
routes it), pings and waits for its pong, which comes back through the web pods and the
emulator's Management API. Signing in goes through `kubectl port-forward` to the web Service
(Django allows `localhost`); the WebSocket's Origin is the integration host, as a browser on
the real site sends.
"""

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from devtools.ports import free_port
from drill.clients import Browser, Client, ping_until

ANSWER_TIMEOUT = 10.0
PING_PAUSE = 0.2


@dataclass(frozen=True)
class Endpoints:
    web_url: str  # where the clients sign in (a port-forward to the web Service)
    ws_url: str  # the emulator's WebSocket endpoint, through its Service
    origin: str  # the integration host's origin
    username: str
    password: str


@dataclass(frozen=True)
class Figures:
    clients: int
    dropped: int
    pings: int
    lost: int

    def __str__(self) -> str:
        return (
            f"{self.clients} clients, {self.pings} pings: "
            f"{self.dropped} dropped connections, {self.lost} lost pings"
        )


@contextlib.contextmanager
def port_forward(kubectl: list[str], namespace: str, service: str, port: int) -> Iterator[int]:
    """`kubectl port-forward service/…` on a free local port, for as long as the block runs."""
    local = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own kubectl
        [*kubectl, "-n", namespace, "port-forward", f"service/{service}", f"{local}:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", local), 1):
                break
            time.sleep(0.2)
        yield local
    finally:
        process.terminate()
        process.wait()


async def connect(endpoints: Endpoints, count: int) -> list[Client]:
    browser = Browser(endpoints.web_url, endpoints.username, endpoints.password)
    cookie = browser.cookie_header()
    return [
        await Client.open(f"c{n:02d}", endpoints.ws_url, browser.token(), cookie, endpoints.origin)
        for n in range(count)
    ]


async def ping_and_broadcast(endpoints: Endpoints) -> str:
    """Two clients: each pings and gets its pong; one broadcasts, both receive it."""
    clients = await connect(endpoints, 2)
    readers = [asyncio.create_task(client.receive()) for client in clients]
    pings = [await client.ping(0, ANSWER_TIMEOUT) for client in clients]
    text = f"cluster-test broadcast {time.time():.0f}"
    await clients[0].broadcast(text)
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while time.monotonic() < deadline and not all(text in c.broadcasts for c in clients):
        await asyncio.sleep(0.1)
    for client in clients:
        await client.close()
    await asyncio.gather(*readers)
    answered = [ping for ping in pings if ping and ping.answered_at]  # None: never sent
    received = sum(1 for client in clients if text in client.broadcasts)
    if len(answered) != 2 or received != 2:
        raise RuntimeError(f"{len(answered)}/2 pongs, {received}/2 clients got the broadcast")
    latency = max(ping.answered_at - ping.sent_at for ping in answered)
    return f"2 clients connected, 2/2 pongs (slowest {latency * 1000:.0f} ms), broadcast 2/2"


async def while_pinging(endpoints: Endpoints, count: int, action: Callable[[], None]) -> Figures:
    """``count`` clients ping without pause while ``action`` (a blocking rollout) runs."""
    clients = await connect(endpoints, count)
    readers = [asyncio.create_task(client.receive()) for client in clients]
    stop = asyncio.Event()
    pingers = [
        asyncio.create_task(ping_until(client, stop, PING_PAUSE, ANSWER_TIMEOUT))
        for client in clients
    ]
    try:
        await asyncio.to_thread(action)
        await asyncio.sleep(3)  # pings through the new pods only
    finally:
        stop.set()
        await asyncio.gather(*pingers)
        for client in clients:
            await client.close()
        await asyncio.gather(*readers)
    pings = [ping for client in clients for ping in client.pings]
    return Figures(
        clients=count,
        dropped=sum(1 for client in clients if client.dropped),
        pings=len(pings),
        lost=sum(1 for ping in pings if ping.answered_at is None),
    )
