"""Posting frames to clients through the API Gateway Management API.

A handler's single reply goes through boto3 (``post``, ``send_to_session``). A broadcast
posts the same frame to thousands of connections, and boto3 spends about 2 ms of CPU on each
call (validation, signing, hooks, parsing) whatever the thread count, which caps a process
near 500 posts/s; ``BulkPoster`` sends the same signed requests from one asyncio loop over
keep-alive connections for about a tenth of that (docs/performance.md has the figures).
Both report the same outcomes and log the same events.
"""

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Literal
from urllib.parse import quote, urlsplit

import aiohttp
import boto3
import structlog
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from django.conf import settings
from django.utils import timezone
from django_aws_api_gateway_websockets.models import (
    WebSocketSession,
    get_boto3_client,
    get_region_name,
    serialise_message,
)
from yarl import URL

from realtime.management_endpoint import management_url
from realtime.sigv4 import Signer, payload_hash

# "unavailable": throttled, 5xx or unanswered after every attempt (the API may recover, so
# the fan-out tries again later); "failed": refused for good (403, 400…) or never sent.
Outcome = Literal["sent", "gone", "failed", "unavailable"]

log = structlog.get_logger(__name__)


# The fan-out's posts: connect and read timeouts, and up to three attempts of a throttled,
# failed or unanswered post (a retry after a read timeout can deliver a frame twice), with
# exponential back-off and full jitter that honours Retry-After up to BACKOFF_CAP_SECONDS.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 10
ATTEMPTS = 3
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 5.0
_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
_credentials_lock = threading.Lock()


def backoff_seconds(attempt: int, retry_after: str | None, draw=random.random) -> float:
    """How long to wait before attempt ``attempt + 1``: full jitter on an exponential base
    (AWS's advice for throttled clients), never less than the server's Retry-After (seconds),
    never more than the cap."""
    delay = draw() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    if retry_after:
        with contextlib.suppress(ValueError):
            delay = max(delay, float(retry_after))
    return min(delay, BACKOFF_CAP_SECONDS)


class PostRate:
    """Spaces one process's posts at ``BROADCAST_MAX_POSTS_PER_SECOND``, over all its fan-outs
    (each runs its own event loop in its own thread, hence a lock, not an asyncio primitive)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def delay(self) -> float:
        """Reserve the next slot; the seconds to wait for it."""
        interval = 1.0 / settings.BROADCAST_MAX_POSTS_PER_SECOND
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + interval
        return slot - now


_post_rate = PostRate()


def endpoint_url(api_id: str, stage_name: str) -> str:
    return f"https://{api_id}.execute-api.{get_region_name()}.amazonaws.com/{stage_name}"


def reply_client(api_id: str, stage_name: str):
    """The package's cached client for one API and stage, for a handler's reply.

    A reply holds a request thread, inside API Gateway's 29 s integration timeout: one
    attempt (botocore's default would make three, 30 s against a hung API), bounded by
    ``WS_REPLY_TIMEOUT_SECONDS`` in all, half to connect and half to read. A reply that
    cannot be sent in that time is logged as ``ws.send.failed`` and dropped.
    """
    bound = settings.WS_REPLY_TIMEOUT_SECONDS
    return get_boto3_client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint_url(api_id, stage_name),
        config=Config(
            max_pool_connections=10,
            connect_timeout=bound / 2,
            read_timeout=bound / 2,
            retries={"total_max_attempts": 1},
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


# API Gateway answers 410 to a post for a connection whose handshake is still pending: the
# connection exists only once the $connect integration has returned ("A message was posted to
# the WebSocket API before the connection was established", AWS knowledge center, 410 Gone;
# developer guide, "$connect and $disconnect routes"). A session row is committed before that,
# so a 410 for a session younger than the integration timeout (29 s) proves nothing: the
# chaos drill saw a fan-out mark a just-connected client disconnected, and every later
# message of that client was refused. $disconnect, a later 410 or the sweeper closes it.
HANDSHAKE_GRACE_SECONDS = 30


def mark_disconnected(session_pks: list[int]) -> int:
    """Mark the sessions of Gone connections disconnected, but those still in their
    handshake's grace time."""
    if not session_pks:
        return 0
    now = timezone.now()
    return WebSocketSession.objects.filter(
        pk__in=session_pks, created_on__lt=now - timedelta(seconds=HANDSHAKE_GRACE_SECONDS)
    ).update(connected=False, updated_on=now)


def send_to_session(session: WebSocketSession, api_id: str, stage_name: str, data: dict) -> Outcome:
    """Post ``data`` to one session; a Gone connection is marked disconnected."""
    outcome = post(reply_client(api_id, stage_name), session.connection_id, serialise_message(data))
    if outcome == "gone":
        mark_disconnected([session.pk])
    return outcome


def _aws_credentials():
    """boto3's default credential chain (IRSA, Pod Identity...), as the package's clients use
    it; refreshable credentials renew themselves when read."""
    with _credentials_lock:  # boto3 sessions are not safe to create from two threads
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        credentials = boto3.DEFAULT_SESSION.get_credentials()
    if credentials is None:
        raise NoCredentialsError()
    return credentials.get_frozen_credentials()


class BulkPoster:
    """Posts one frame to many connections from an asyncio loop owned by the calling thread.

    Use it as a context manager; ``post_many`` blocks until every post has an outcome, so
    the caller may use the ORM between calls (the loop is not running then).
    """

    def __init__(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._loop = asyncio.new_event_loop()
        self._session: aiohttp.ClientSession | None = None

    def __enter__(self) -> "BulkPoster":
        self._session = self._loop.run_until_complete(self._open())
        return self

    def __exit__(self, *_exc) -> None:
        if self._session is not None:
            self._loop.run_until_complete(self._session.close())
        self._loop.close()

    async def _open(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._concurrency),
            timeout=aiohttp.ClientTimeout(
                sock_connect=CONNECT_TIMEOUT_SECONDS, sock_read=READ_TIMEOUT_SECONDS
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("Content-Type", "User-Agent"),
        )

    def post_many(
        self, api_id: str, stage_name: str, connection_ids: Sequence[str], message: str
    ) -> list[Outcome]:
        """Post ``message`` to each connection of one API stage; outcomes in the same order."""
        return self._loop.run_until_complete(
            self._post_many(endpoint_url(api_id, stage_name), connection_ids, message.encode())
        )

    async def _post_many(
        self, base_url: str, connection_ids: Sequence[str], body: bytes
    ) -> list[Outcome]:
        try:
            signer = Signer(_aws_credentials(), get_region_name())
        except BotoCoreError as error:
            log.warning(
                "ws.send.failed", error_code=type(error).__name__, count=len(connection_ids)
            )
            return ["failed"] * len(connection_ids)
        body_hash = payload_hash(body)
        # Everything but the connection id is the same for every post: split it once.
        aws_prefix = f"{base_url}/@connections/"
        host, path_prefix = urlsplit(aws_prefix)[1:3]
        target_prefix = management_url(aws_prefix)
        outcomes: list[Outcome] = ["failed"] * len(connection_ids)
        pending = iter(enumerate(connection_ids))

        async def worker() -> None:
            # A few workers taking turns on one iterator cost less than a task per post.
            for index, connection_id in pending:
                # Connection ids are [A-Za-z0-9_=-]: only "=" needs encoding, as botocore does.
                encoded = quote(connection_id, safe="")
                headers = signer.headers(host, path_prefix + encoded, body_hash)
                url = URL(target_prefix + encoded, encoded=True)
                outcomes[index] = await self._post(connection_id, url, headers, body)

        workers = min(self._concurrency, len(connection_ids))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return outcomes

    async def _post(
        self, connection_id: str, url: URL, headers: dict[str, str], body: bytes
    ) -> Outcome:
        assert self._session is not None
        error_code = "Unknown"
        for attempt in range(ATTEMPTS):
            retry_after = None
            if wait := _post_rate.delay():
                await asyncio.sleep(wait)
            try:
                async with self._session.post(
                    url, data=body, headers=headers, allow_redirects=False
                ) as response:
                    await response.read()
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
                    # "GoneException" or "GoneException:http://internal.amazon.com/..."
                    error_code = response.headers.get("x-amzn-ErrorType", str(status))
                    error_code = error_code.split(":", 1)[0]
            except (aiohttp.ClientError, TimeoutError) as error:
                status, error_code = 0, type(error).__name__
            if 200 <= status < 300:
                return "sent"
            if error_code == "GoneException":
                log.info("ws.send.gone", target_connection_id=connection_id)
                return "gone"
            if status and status not in _RETRIED_STATUSES:
                break
            if attempt + 1 < ATTEMPTS:
                await asyncio.sleep(backoff_seconds(attempt, retry_after))
        log.warning("ws.send.failed", target_connection_id=connection_id, error_code=error_code)
        return "failed" if status and status not in _RETRIED_STATUSES else "unavailable"
