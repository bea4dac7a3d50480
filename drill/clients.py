"""The drill's clients: a signed-in browser session and WebSocket clients that speak protocol
version 1, as JavaScript loaded before the new release does.

Each pinging client keeps one ping in flight (send, wait for its pong, pause, repeat), so the
order of its calls is the order of its pings: analysis.py matches them to the web logs.
"""

import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

CHANNEL = "lobby"
# A sign-in hashes the password (deliberately slow): on a loaded machine it takes seconds.
SIGN_IN_TIMEOUT = 30.0


@dataclass
class Ping:
    ref: str
    sent_at: float
    answered_at: float | None = None


class Browser:
    """One signed-in session on the web tier; it hands out one-time WebSocket tokens."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.username = username
        self.password = password  # the drill's own demo password: more users sign in with it
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only: never through a proxy from the environment
        self._sign_in(username, password)

    def _sign_in(self, username: str, password: str) -> None:
        url = f"{self.base_url}/accounts/login/"
        page = self.http.get(url, timeout=SIGN_IN_TIMEOUT)
        page.raise_for_status()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if not token:
            raise RuntimeError("the sign-in page has no CSRF token")
        answer = self.http.post(
            url,
            data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
            headers={"Referer": url},
            timeout=SIGN_IN_TIMEOUT,
        )
        answer.raise_for_status()
        if "sessionid" not in self.http.cookies:
            raise RuntimeError(f"sign-in as {username!r} refused")

    def token(self) -> str:
        answer = self.http.post(
            f"{self.base_url}/api/ws-token/",
            headers={
                "X-CSRFToken": self.http.cookies.get("csrftoken", ""),
                "Referer": self.base_url,
            },
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()["token"]

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())


@dataclass
class Client:
    """One WebSocket connection through the gateway emulator."""

    name: str
    socket: ClientConnection
    connection_id: str = ""
    pings: list[Ping] = field(default_factory=list)
    broadcasts: dict[str, dict] = field(default_factory=dict)  # text -> frame
    copies: Counter[str] = field(default_factory=Counter)  # text -> frames received
    opened_at: float = field(default_factory=time.time)
    closed_at: float | None = None
    errors: list[dict] = field(default_factory=list)
    dropped: str = ""  # why the connection closed under us, if it did
    _waiting: dict[str, asyncio.Future] = field(default_factory=dict)
    _closing: bool = False

    @classmethod
    async def open(
        cls, name: str, ws_url: str, token: str, cookie: str, origin: str, source: str | None = None
    ) -> "Client":
        """Connect; from the local address ``source`` if given (else the system's choice)."""
        query = urlencode({"ws_token": token, "channel": CHANNEL})
        socket = await connect(
            f"{ws_url}?{query}",
            additional_headers={"Cookie": cookie},
            origin=origin,
            proxy=None,
            local_addr=(source, 0) if source else None,
        )
        return cls(name, socket)

    async def receive(self) -> None:
        """Read every frame until the connection closes; record an unexpected close."""
        try:
            async for message in self.socket:
                self._dispatch(json.loads(message))
        except ConnectionClosed as closed:
            if not self._closing:
                self.dropped = f"closed {closed.rcvd.code if closed.rcvd else 'abnormally'}"
        if not self._closing and not self.dropped:
            self.dropped = "closed by the server"
        self.closed_at = time.time()

    def _dispatch(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "broadcast":
            self.broadcasts[frame.get("text", "")] = frame
            self.copies[frame.get("text", "")] += 1
        elif kind == "pong" and frame.get("ref") in self._waiting:
            self.connection_id = frame.get("connection_id", self.connection_id)
            answer = self._waiting.pop(frame["ref"])
            if not answer.done():  # cancelled when the drill stopped while it waited
                answer.set_result(frame)
        elif kind == "error":
            self.errors.append(frame)

    async def ping(self, number: int, timeout: float) -> Ping | None:
        """A version 1 ping (no "v"), answered by a pong with the same ref, or lost; None if
        the connection had closed (nothing was sent)."""
        ping = Ping(f"{self.name}-{number}", time.time())
        answer = asyncio.get_running_loop().create_future()
        self._waiting[ping.ref] = answer
        try:
            await self.socket.send(json.dumps({"action": "ping", "ref": ping.ref}))
        except ConnectionClosed:
            self._waiting.pop(ping.ref, None)
            return None
        self.pings.append(ping)
        try:
            await asyncio.wait_for(answer, timeout)
            ping.answered_at = time.time()
        except TimeoutError:
            self._waiting.pop(ping.ref, None)
        return ping

    async def broadcast(self, text: str) -> None:
        await self.socket.send(
            json.dumps({"action": "broadcast", "channel": CHANNEL, "text": text})
        )

    async def close(self) -> None:
        self._closing = True
        await self.socket.close()


async def ping_until(client: Client, stop: asyncio.Event, pause: float, timeout: float) -> None:
    """Ping, wait for the pong, pause; until ``stop`` is set or the connection is gone."""
    number = 0
    while not stop.is_set() and not client.dropped:
        if await client.ping(number, timeout) is None:
            return
        number += 1
        await asyncio.sleep(pause)
