"""The emulated API Gateway's shared state: its connections, its calls to Django, and
closing a connection the way API Gateway does (then $disconnect, unless dropped)."""

from dataclasses import dataclass, field

import structlog
from aiohttp import WSCloseCode, web

from gateway_emulator.background import BackgroundTasks
from gateway_emulator.config import EmulatorConfig
from gateway_emulator.connections import Connection, ConnectionRegistry
from gateway_emulator.integration import Integration
from gateway_emulator.signature_check import SignatureCheck
from gateway_emulator.throttle import TokenBucket

log = structlog.get_logger(__name__)

# Close codes the emulator sends, with their sources (docs/emulator-fidelity.md, "Close"):
# 1009 and 1003 are AWS's documented codes for a too large frame or message and a binary
# frame; 1001 for the idle timeout and the 2-hour limit is what clients report [community];
# 1000 for DeleteConnection is what AWS logs ("Connection Closed Normally", aws/chalice#2060).
CLOSE_CODES = {
    "idle_timeout": WSCloseCode.GOING_AWAY,
    "max_duration": WSCloseCode.GOING_AWAY,
    "shutdown": WSCloseCode.GOING_AWAY,
    "deleted": WSCloseCode.OK,
    # aiohttp sends these two itself (gateway_emulator.frames).
    "frame_too_large": WSCloseCode.MESSAGE_TOO_BIG,
    "binary_frame": WSCloseCode.UNSUPPORTED_DATA,
}


@dataclass
class Gateway:
    config: EmulatorConfig
    integration: Integration
    registry: ConnectionRegistry = field(default_factory=ConnectionRegistry)
    tasks: BackgroundTasks = field(default_factory=BackgroundTasks)
    signature_check: SignatureCheck | None = None
    throttle: TokenBucket | None = None

    @classmethod
    def from_config(cls, config: EmulatorConfig, integration: Integration) -> "Gateway":
        check = None
        if config.verify_sigv4 and config.access_key_id and config.secret_access_key:
            check = SignatureCheck(config.access_key_id, config.secret_access_key, config.api_id)
        throttle = None
        if config.throttle_rate is not None:
            throttle = TokenBucket(config.throttle_rate, config.throttle_burst)
        return cls(config, integration, signature_check=check, throttle=throttle)

    def close(self, connection: Connection, reason: str) -> None:
        """Close from the gateway's side. The connection is forgotten at once, so the
        Management API answers Gone from now on; the close handshake runs in the background."""
        if not self.registry.remove(connection):
            return
        connection.close_reason = reason
        self.tasks.spawn(connection.ws.close(code=CLOSE_CODES[reason], message=reason.encode()))

    def close_all(self, reason: str) -> None:
        for connection in self.registry.all():
            self.close(connection, reason)

    async def closed(self, connection: Connection) -> None:
        """The socket is gone, whoever closed it: call $disconnect, best-effort like AWS."""
        self.registry.remove(connection)
        dropped = self.config.drop_disconnects
        log.info(
            "emulator.disconnect",
            connection_id=connection.connection_id,
            reason=connection.close_reason,
            # aiohttp may not have recorded the code yet when the gateway itself closed.
            close_code=CLOSE_CODES.get(connection.close_reason, connection.ws.close_code),
            disconnect_dropped=dropped,
        )
        if not dropped:
            await self.integration.disconnect(connection)


GATEWAY = web.AppKey("gateway", Gateway)
