"""The client side: the WebSocket handshake, the frames, and the end of a connection."""

import structlog
from aiohttp import WebSocketError, WSCloseCode, WSMsgType, web

from gateway_emulator.connections import Connection, new_connection_id
from gateway_emulator.gateway import GATEWAY, Gateway
from gateway_emulator.lifetime import LifetimeLimits

log = structlog.get_logger(__name__)

# API Gateway's message payload limit. aiohttp refuses a message of max_msg_size or more,
# closing with 1009 as AWS does, so the limit itself is still accepted.
MAX_MESSAGE_BYTES = 128 * 1024


async def handle_client(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    if request.match_info["stage"] != gateway.config.stage:
        return web.json_response({"message": "Forbidden"}, status=403)
    # API Gateway negotiates no permessage-deflate; leaving it off also saves memory per socket.
    ws = web.WebSocketResponse(compress=False, max_msg_size=MAX_MESSAGE_BYTES + 1)
    if not ws.can_prepare(request).ok:
        return web.Response(status=426, text="Upgrade Required")

    connection = Connection(
        new_connection_id(),
        ws,
        source_ip=request.remote or "",
        user_agent=request.headers.get("User-Agent", ""),
        scheme=request.scheme,
        port=request.url.port or 80,
    )
    status = await gateway.integration.connect(connection, request)
    if not 200 <= status < 300:
        log.warning(
            "emulator.connect.refused", connection_id=connection.connection_id, status=status
        )
        # Before prepare(): the client gets this HTTP status instead of an upgrade.
        return web.Response(status=status)

    limits = LifetimeLimits(
        connection, gateway.config.idle_timeout, gateway.config.max_duration, gateway.close
    )
    try:
        await ws.prepare(request)
        gateway.registry.add(connection)
        limits.start()
        log.info(
            "emulator.connect",
            connection_id=connection.connection_id,
            source_ip=connection.source_ip,
        )
        await _relay_frames(gateway, connection)
    finally:
        limits.cancel()
        await gateway.closed(connection)
    return ws


async def _relay_frames(gateway: Gateway, connection: Connection) -> None:
    """Each message goes to Django in its own task: API Gateway does not wait for one
    integration call before the next, so Django may see a client's messages out of order."""
    async for message in connection.ws:
        if message.type in {WSMsgType.TEXT, WSMsgType.BINARY}:
            connection.touch()
            payload = message.data.encode() if message.type is WSMsgType.TEXT else message.data
            gateway.tasks.spawn(gateway.integration.message(connection, payload))
        elif message.type is WSMsgType.ERROR:
            _log_error(connection, message.data)


def _log_error(connection: Connection, error: BaseException) -> None:
    if isinstance(error, WebSocketError) and error.code == WSCloseCode.MESSAGE_TOO_BIG:
        connection.close_reason = "frame_too_large"
        log.warning(
            "emulator.frame.too_large",
            connection_id=connection.connection_id,
            limit_bytes=MAX_MESSAGE_BYTES,
        )
    else:
        connection.close_reason = "protocol_error"
        log.warning(
            "emulator.frame.error", connection_id=connection.connection_id, error=repr(error)
        )
