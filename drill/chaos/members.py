"""The chaos drill's users: each keeps one WebSocket open through the emulator, as the demo
page's client does (app/demo/static/demo/client.js): when the connection drops it asks for a
fresh one-time token and reconnects, with exponential back-off and full jitter (base 0.5 s,
cap 30 s, the demo's constants). Pinging members keep one ping in flight; listeners only
receive; the broadcaster sends one broadcast a second.
"""

import asyncio
import contextlib
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from drill.clients import Browser, Client, Ping, ping_until

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
HANDSHAKE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Handshake:
    at: float
    ok: bool
    reason: str = ""


@dataclass(frozen=True)
class Sent:
    """A broadcast the broadcaster sent (or could not: no connection at the time)."""

    text: str
    at: float
    sent: bool


@dataclass
class Hub:
    """What every member shares: the signed-in browser session and where to connect."""

    browser: Browser
    ws_url: str
    origin: str
    ping_pause: float
    answer_timeout: float
    # The local address the connections come from (None: the system's choice).
    source: str | None = None
    # Token requests are blocking (requests); a few threads keep them off the event loop.
    # Hubs made with dataclasses.replace share them.
    tokens: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8))
    # Bounds the handshakes in flight. A hub's clients are one user from one address, whose
    # connects the admission serialises (an advisory lock each): more in flight would only
    # wait on the lock, and past DB_LOCK_TIMEOUT_MS be refused as busy.
    opening: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(8))


def backoff(attempt: int) -> float:
    return random.random() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)  # noqa: S311


@dataclass
class Member:
    name: str
    pinging: bool
    sessions: list[Client] = field(default_factory=list)
    handshakes: list[Handshake] = field(default_factory=list)

    @property
    def current(self) -> Client | None:
        last = self.sessions[-1] if self.sessions else None
        return last if last is not None and last.closed_at is None and not last.dropped else None

    @property
    def pings(self) -> list[Ping]:
        return [ping for session in self.sessions for ping in session.pings]

    def copies(self) -> Counter[str]:
        return sum((session.copies for session in self.sessions), Counter())

    def most_copies(self) -> Counter[str]:
        """Per broadcast text, the most copies any one of its connections received."""
        most: Counter[str] = Counter()
        for session in self.sessions:
            most |= session.copies
        return most

    def connected_throughout(self, start: float, end: float) -> bool:
        """One of its connections was open from ``start`` to ``end``."""
        return any(
            s.opened_at <= start and (s.closed_at is None or s.closed_at >= end)
            for s in self.sessions
        )

    async def run(self, hub: Hub, stop: asyncio.Event) -> None:
        """Stay connected until ``stop``: connect, ping or listen, reconnect when dropped."""
        attempt = 0
        while not stop.is_set():
            client = await self._connect(hub)
            if client is None:
                attempt += 1
                await _sleep_unless(stop, backoff(attempt))
                continue
            attempt = 0
            reader = asyncio.create_task(client.receive())
            if self.pinging:
                await ping_until(client, stop, hub.ping_pause, hub.answer_timeout)
            else:
                await asyncio.wait(
                    [reader, asyncio.create_task(stop.wait())],
                    return_when=asyncio.FIRST_COMPLETED,
                )
            if stop.is_set():
                await client.close()
            await reader

    async def _connect(self, hub: Hub) -> Client | None:
        started = time.time()
        try:
            async with hub.opening:
                loop = asyncio.get_running_loop()
                token = await loop.run_in_executor(hub.tokens, hub.browser.token)
                client = await asyncio.wait_for(
                    Client.open(
                        self.name,
                        hub.ws_url,
                        token,
                        hub.browser.cookie_header(),
                        hub.origin,
                        hub.source,
                    ),
                    HANDSHAKE_TIMEOUT,
                )
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as error:
            # requests' errors are OSErrors; a refused handshake is InvalidStatus.
            self.handshakes.append(Handshake(started, False, _reason(error)))
            return None
        self.handshakes.append(Handshake(started, True))
        self.sessions.append(client)
        return client


def _reason(error: Exception) -> str:
    status = getattr(getattr(error, "response", None), "status_code", None) or getattr(
        getattr(error, "response", None), "status", None
    )
    return f"{type(error).__name__}{f' {status}' if status else ''}"


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def broadcast_every(
    member: Member, stop: asyncio.Event, ticking: asyncio.Event, interval: float, sent: list[Sent]
) -> None:
    """Send one broadcast every ``interval`` through the member's connection, if it has one,
    while ``ticking`` is set (set it with ``stop`` to end)."""
    number = 0
    while not stop.is_set():
        await ticking.wait()
        if stop.is_set():
            return
        number += 1
        text = f"tick {number}"
        sent.append(await send_broadcast(member, text))
        await _sleep_unless(stop, interval)


async def send_broadcast(member: Member, text: str) -> Sent:
    client = member.current
    at = time.time()
    if client is None:
        return Sent(text, at, sent=False)
    try:
        await client.broadcast(text)
    except ConnectionClosed:
        return Sent(text, at, sent=False)
    return Sent(text, at, sent=True)
