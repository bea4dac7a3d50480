"""Faults the Management API plays on demand, for drills: AWS's answers under stress.

Switched at run time through ``/_emulator/faults/management-api`` (GET shows, PUT sets), a
path of the emulator's own that AWS does not have:

- ``none``: normal answers.
- ``throttle``: 429 ``LimitExceededException`` with ``Retry-After`` (AWS's answer to a
  client over its rate, or to a post to a connection whose send buffer is full).
- ``error``: 500 ``InternalServerErrorException``.
- ``hang``: no answer until the mode changes (a regional brownout); the post then proceeds.

Every Management API call (POST, GET, DELETE) plays the current fault first.
"""

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from gateway_emulator.aws_answers import aws_error

MODES = ("none", "throttle", "error", "hang")
PATH = "/_emulator/faults/management-api"


class BadFault(ValueError):
    """A fault setting the emulator does not know; its message says what is allowed."""


@dataclass
class ManagementFault:
    mode: str = "none"
    retry_after: int = 1
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def set(self, mode: str, retry_after: int = 1) -> None:
        if mode not in MODES:
            raise BadFault(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not isinstance(retry_after, int) or not 0 <= retry_after <= 3600:
            raise BadFault("retry_after must be whole seconds between 0 and 3600")
        self.mode, self.retry_after = mode, retry_after
        # Wake the calls hung so far; a new hang makes a new event for the next ones.
        self._changed.set()
        self._changed = asyncio.Event()

    def as_json(self) -> dict:
        return {"mode": self.mode, "retry_after": self.retry_after}

    async def play(self) -> web.Response | None:
        """The fault's answer, or None to answer normally (after a hang has ended)."""
        if self.mode == "hang":
            await self._changed.wait()
        if self.mode == "throttle":
            headers = {"Retry-After": str(self.retry_after)}
            return aws_error(429, "LimitExceededException", "Rate exceeded", headers)
        if self.mode == "error":
            return aws_error(500, "InternalServerErrorException", "Internal server error")
        return None


FAULT = web.AppKey("management_fault", ManagementFault)


def add_routes(app: web.Application) -> None:
    app[FAULT] = ManagementFault()
    app.router.add_get(PATH, show)
    app.router.add_put(PATH, change)


async def show(request: web.Request) -> web.Response:
    return web.json_response(request.app[FAULT].as_json())


async def change(request: web.Request) -> web.Response:
    try:
        body = await request.json()
        request.app[FAULT].set(body.get("mode", ""), body.get("retry_after", 1))
    except (ValueError, AttributeError) as error:
        # json.JSONDecodeError and BadFault are ValueErrors; a non-object body has no .get.
        return web.json_response({"error": str(error) or "a JSON object is required"}, status=400)
    return web.json_response(request.app[FAULT].as_json())
