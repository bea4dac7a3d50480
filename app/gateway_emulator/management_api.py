"""The API Gateway Management API (``/{stage}/@connections/{connectionId}``), as botocore's
``apigatewaymanagementapi`` model describes it: POST sends a frame, GET describes the
connection, DELETE closes it. Errors carry ``x-amzn-ErrorType`` (gateway_emulator.aws_answers).
Requests are not signed-checked.
"""

from datetime import datetime

from aiohttp import web

from gateway_emulator.aws_answers import aws_answer, aws_error
from gateway_emulator.connections import Connection, SendBufferFull
from gateway_emulator.faults import FAULT
from gateway_emulator.frames import MAX_MESSAGE_BYTES
from gateway_emulator.gateway import GATEWAY
from gateway_emulator.signature_check import SignatureRefused

PATH = "/{stage}/@connections/{connection_id}"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post(PATH, post_to_connection)
    router.add_get(PATH, get_connection)
    router.add_delete(PATH, delete_connection)


async def _find(request: web.Request) -> Connection | web.Response:
    """The open connection the path names, or the error API Gateway would answer (after the
    fault the drill asked for, if any: gateway_emulator.faults)."""
    gateway = request.app[GATEWAY]
    if gateway.signature_check is not None:
        try:
            gateway.signature_check.verify(
                request.method, request.raw_path, request.headers, await request.read()
            )
        except SignatureRefused as refused:
            return aws_error(403, "ForbiddenException", str(refused))
        except web.HTTPRequestEntityTooLarge:
            return aws_error(413, "PayloadTooLargeException", "Message too long")
    if gateway.throttle is not None and not gateway.throttle.take():
        return aws_error(429, "LimitExceededException", "Too Many Requests")
    fault_answer = await request.app[FAULT].play()
    if fault_answer is not None:
        return fault_answer
    if request.match_info["stage"] != gateway.config.stage:
        return aws_error(403, "ForbiddenException", "Forbidden")
    # aiohttp has already percent-decoded the path: boto3 sends "=" as "%3D".
    connection = gateway.registry.get(request.match_info["connection_id"])
    if connection is None or connection.ws.closed:
        return aws_error(410, "GoneException")
    return connection


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def post_to_connection(request: web.Request) -> web.Response:
    found = await _find(request)
    if isinstance(found, web.Response):
        return found
    try:
        data = await request.read()
    except web.HTTPRequestEntityTooLarge:
        data = None
    if data is None or len(data) > MAX_MESSAGE_BYTES:
        return aws_error(413, "PayloadTooLargeException", "Message too long")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        text = None
    try:
        # A frame type for posted data is undocumented: text, or binary when not UTF-8.
        found.send(data, text=text is not None)
    except SendBufferFull:
        return aws_error(429, "LimitExceededException", "Limit Exceeded")
    except ConnectionError:
        return aws_error(410, "GoneException")
    return aws_answer(200)


async def get_connection(request: web.Request) -> web.Response:
    found = await _find(request)
    if isinstance(found, web.Response):
        return found
    return aws_answer(
        200,
        {
            "connectedAt": _iso(found.connected_at),
            "lastActiveAt": _iso(found.last_active_at),
            "identity": {"sourceIp": found.source_ip, "userAgent": found.user_agent},
        },
    )


async def delete_connection(request: web.Request) -> web.Response:
    found = await _find(request)
    if isinstance(found, web.Response):
        return found
    request.app[GATEWAY].close(found, "deleted")
    return aws_answer(204)
