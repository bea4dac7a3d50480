"""The client side: the WebSocket handshake, the frames, and the end of a connection."""

import structlog
from aiohttp import WebSocketError, WSCloseCode, WSMsgType, web

from gateway_emulator.connections import Connection, new_connection_id
from gateway_emulator.frames import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, AwsWebSocketResponse
from gateway_emulator.gateway import GATEWAY, Gateway
from gateway_emulator.lifetime import LifetimeLimits

log = structlog.get_logger(__name__)

# "Length, in characters, of the URL for a WebSocket API: 4096" (AWS's quota table,
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html).
MAX_URL_LENGTH = 4096
_CLOSE_REASONS = {
    WSCloseCode.MESSAGE_TOO_BIG: "frame_too_large",
    WSCloseCode.UNSUPPORTED_DATA: "binary_frame",
}


def _url_length(request: web.Request) -> int:
    """The URL as the client wrote it: wss://host/stage?query."""
    return len("wss://") + len(request.host) + len(request.raw_path)


async def handle_client(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    if request.match_info["stage"] != gateway.config.stage:
        return web.json_response({"message": "Forbidden"}, status=403)
    if _url_length(request) > MAX_URL_LENGTH:
        # AWS does not document the status; 414 is HTTP's for a URI over a server's limit.
        return web.json_response({"message": "Request-URI Too Long"}, status=414)
    if not AwsWebSocketResponse().can_prepare(request).ok:
        return web.Response(status=426, text="Upgrade Required")

    connection = Connection(
        new_connection_id(),
        AwsWebSocketResponse(),
        source_ip=request.remote or "",
        user_agent=request.headers.get("User-Agent", ""),
        scheme=request.scheme,
        port=request.url.port or 80,
        transport=request.transport,  # type: ignore[arg-type]
    )
    answer = await gateway.integration.connect(connection, request)
    if not 200 <= answer.status < 300:
        log.warning(
            "emulator.connect.refused",
            connection_id=connection.connection_id,
            status=answer.status,
        )
        # Before prepare(): the client gets this HTTP status instead of an upgrade.
        return web.Response(status=answer.status)
    if answer.subprotocol:
        # The subprotocol Django's $connect answer names is the one the client gets
        # (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-connect-route-subprotocol.html).
        connection.ws = AwsWebSocketResponse(protocols=(answer.subprotocol,))
    ws = connection.ws

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
        if message.type is WSMsgType.TEXT:
            connection.touch()
            gateway.tasks.spawn(gateway.integration.message(connection, message.data.encode()))
        elif message.type is WSMsgType.ERROR:
            _log_error(connection, message.data)


def _log_error(connection: Connection, error: BaseException) -> None:
    reason = _CLOSE_REASONS.get(error.code) if isinstance(error, WebSocketError) else None
    if reason == "frame_too_large":
        connection.close_reason = reason
        log.warning(
            "emulator.frame.too_large",
            connection_id=connection.connection_id,
            frame_limit_bytes=MAX_FRAME_BYTES,
            message_limit_bytes=MAX_MESSAGE_BYTES,
        )
    elif reason == "binary_frame":
        connection.close_reason = reason
        log.warning("emulator.frame.binary", connection_id=connection.connection_id)
    else:
        connection.close_reason = "protocol_error"
        log.warning(
            "emulator.frame.error", connection_id=connection.connection_id, error=repr(error)
        )
