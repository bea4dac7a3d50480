"""The Management API's answers as AWS shapes them: errors name their type in
``x-amzn-ErrorType`` (from which botocore names the exception: a bare 410 would not become a
GoneException), and every answer carries a request id."""

import uuid

from aiohttp import web


def aws_error(
    status: int, error_type: str, message: str | None = None, headers: dict | None = None
) -> web.Response:
    return web.json_response(
        {"message": message},
        status=status,
        headers={
            "x-amzn-ErrorType": error_type,
            "x-amzn-RequestId": str(uuid.uuid4()),
            **(headers or {}),
        },
    )


def aws_answer(status: int, body: dict | None = None) -> web.Response:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if body is None:
        return web.Response(status=status, headers=headers)
    return web.json_response(body, status=status, headers=headers)
