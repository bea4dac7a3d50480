"""API Gateway's two limits on a connection: the idle timeout and the maximum duration.

One timer per connection, re-armed only when it fires: resetting a timer on every frame
would cost a cancel and a new handle per message.
"""

import asyncio
from collections.abc import Callable

from gateway_emulator.connections import Connection

Expire = Callable[[Connection, str], None]


class LifetimeLimits:
    def __init__(
        self, connection: Connection, idle_timeout: float, max_duration: float, expire: Expire
    ) -> None:
        self._connection = connection
        self._idle_timeout = idle_timeout
        self._loop = asyncio.get_running_loop()
        # loop.time() and Connection.last_active both read the monotonic clock.
        self._deadline = self._loop.time() + max_duration
        self._expire = expire
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> "LifetimeLimits":
        self._arm()
        return self

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _arm(self) -> None:
        idle_deadline = self._connection.last_active + self._idle_timeout
        self._timer = self._loop.call_at(min(self._deadline, idle_deadline), self._check)

    def _check(self) -> None:
        now = self._loop.time()
        if now >= self._deadline:
            self._expire(self._connection, "max_duration")
        elif now >= self._connection.last_active + self._idle_timeout:
            self._expire(self._connection, "idle_timeout")
        else:
            self._arm()
