"""Posting frames to clients through the API Gateway Management API.

One function posts to one connection and reports what happened, so the single replies of
the handlers and the broadcast fan-out share the same error handling and logging.
"""

from typing import Literal

import structlog
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.utils import timezone
from django_aws_api_gateway_websockets.models import (
    WebSocketSession,
    get_boto3_client,
    get_region_name,
    serialise_message,
)

Outcome = Literal["sent", "gone", "failed"]

log = structlog.get_logger(__name__)


def management_client(api_id: str, stage_name: str, concurrency: int = 10):
    """The package's cached client for one API and stage, with a pool for ``concurrency``."""
    return get_boto3_client(
        "apigatewaymanagementapi",
        endpoint_url=(
            f"https://{api_id}.execute-api.{get_region_name()}.amazonaws.com/{stage_name}"
        ),
        config=Config(
            max_pool_connections=max(concurrency, 10),
            connect_timeout=5,
            read_timeout=10,
            # A retry after a read timeout can deliver a frame twice; clients de-duplicate
            # on the frame's id where it matters.
            retries={"mode": "standard", "max_attempts": 2},
        ),
    )


def post(client, connection_id: str, message: str) -> Outcome:
    try:
        client.post_to_connection(Data=message.encode(), ConnectionId=connection_id)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        if code == "GoneException":
            log.info("ws.send.gone", target_connection_id=connection_id)
            return "gone"
        log.warning("ws.send.failed", target_connection_id=connection_id, error_code=code)
        return "failed"
    except BotoCoreError as error:
        log.warning(
            "ws.send.failed", target_connection_id=connection_id, error_code=type(error).__name__
        )
        return "failed"
    return "sent"


def mark_disconnected(session_pks: list[int]) -> int:
    if not session_pks:
        return 0
    return WebSocketSession.objects.filter(pk__in=session_pks).update(
        connected=False, updated_on=timezone.now()
    )


def send_to_session(session: WebSocketSession, api_id: str, stage_name: str, data: dict) -> Outcome:
    """Post ``data`` to one session; a Gone connection is marked disconnected."""
    outcome = post(
        management_client(api_id, stage_name), session.connection_id, serialise_message(data)
    )
    if outcome == "gone":
        mark_disconnected([session.pk])
    return outcome
