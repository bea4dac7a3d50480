"""WebSocket clients as browsers open them: Origin, session cookie, token, channel."""

import asyncio
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect

from bench.load.browsers import Browser
from bench.stack.processes import HOST, ORIGIN, STAGE
from devtools.browser_handshake import CHROMIUM_EXTENSIONS, EXTENSIONS_HEADER

USER_AGENT = "Mozilla/5.0 (bench)"


def stage_url(emulator_port: int, **query: str) -> str:
    return f"ws://{HOST}:{emulator_port}/{STAGE}?{urlencode(query)}"


async def open_browser(
    emulator_port: int, browser: Browser, token: str, channel: str = "lobby"
) -> ClientConnection:
    """The full $connect: the handshake completes only once Django has answered 200."""
    return await connect(
        stage_url(emulator_port, ws_token=token, channel=channel),
        origin=ORIGIN,
        # The extension offer a browser always sends (Django requires it on $connect).
        additional_headers={"Cookie": browser.cookie, EXTENSIONS_HEADER: CHROMIUM_EXTENSIONS},
        user_agent_header=USER_AGENT,
        compression=None,
        ping_interval=None,
        open_timeout=30,
        # The emulator sees this address, and so does the rate limit (X-Forwarded-For).
        local_addr=(browser.source_ip, 0),
    )


async def open_plain(emulator_port: int, number: int) -> ClientConnection:
    """A client of an emulator whose $connect goes to a stand-in (the fan-out's clients)."""
    return await connect(
        stage_url(emulator_port, n=str(number)),
        compression=None,
        ping_interval=None,
        open_timeout=30,
        max_queue=None,
    )


async def close_all(clients: list[ClientConnection], concurrency: int = 200) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def close(client: ClientConnection) -> None:
        async with gate:
            await client.close()

    await asyncio.gather(*(close(client) for client in clients), return_exceptions=True)
    clients.clear()
