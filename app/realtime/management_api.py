"""The one Management API client: every frame Django sends goes through it.

A handler's reply, a message to a user's connections and a broadcast's fan-out all post
``POST /{stage}/@connections/{id}`` here, with one policy for timeouts, retries and Gone
connections; only the bound differs (``Policy``). A reply holds a request thread inside API
Gateway's 29 s integration timeout, so it is one attempt within ``WS_REPLY_TIMEOUT_SECONDS``;
a fan-out runs outside requests and retries throttled, failed and unanswered posts.

Why not boto3: it spends about 2 ms of CPU on each call (validation, signing, hooks,
parsing) whatever the thread count, which caps a process near 500 posts/s. This client sends
the same signed requests (``realtime.sigv4``, checked against botocore's signer) from an
asyncio loop over keep-alive connections for about a tenth of that (docs/performance.md).
"""

import asyncio
import atexit
import contextlib
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, NamedTuple
from urllib.parse import quote, urlsplit

import aiohttp
import boto3
import structlog
from botocore.exceptions import BotoCoreError, NoCredentialsError
from django.conf import settings
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession, get_region_name
from yarl import URL

from observability import metrics
from realtime.management_endpoint import management_url
from realtime.sigv4 import Signer, payload_hash

# "unavailable": throttled, 5xx or unanswered after every attempt (the API may recover, so
# the fan-out tries again later); "failed": refused for good (403, 400…) or never sent.
Outcome = Literal["sent", "gone", "failed", "unavailable"]

log = structlog.get_logger(__name__)

BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 5.0
_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
_credentials_lock = threading.Lock()


@dataclass(frozen=True)
class Policy:
    """How long one post may take and how often it is tried. A retry after a read timeout can
    deliver a frame twice; throttled and failed posts are retried with exponential back-off
    and full jitter that honours Retry-After up to BACKOFF_CAP_SECONDS."""

    attempts: int
    connect_timeout: float
    read_timeout: float


# A fan-out runs outside requests: three attempts, generous timeouts.
FANOUT = Policy(attempts=3, connect_timeout=5.0, read_timeout=10.0)


def reply_policy() -> Policy:
    """A post made inside a request: one attempt within WS_REPLY_TIMEOUT_SECONDS in all."""
    bound = settings.WS_REPLY_TIMEOUT_SECONDS
    return Policy(attempts=1, connect_timeout=bound / 2, read_timeout=bound / 2)


class Target(NamedTuple):
    """A connection to post to: its session's primary key, its id, its API and stage."""

    session_pk: int
    connection_id: str
    api_id: str
    stage_name: str


# The AWS error codes of a failed post, by what an operator does about them (the metric's
# ``reason``; the log line keeps the exact code). The Management API's errors:
# https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages-stagename-connections-connectionid.html
# and botocore's apigatewaymanagementapi service model.
_FAILURE_REASONS = {
    "LimitExceededException": "throttled",
    "TooManyRequestsException": "throttled",
    "429": "throttled",
    "ForbiddenException": "forbidden",
    "403": "forbidden",
    "AccessDeniedException": "access_denied",
    "PayloadTooLargeException": "payload_too_large",
    "413": "payload_too_large",
    "TimeoutError": "timeout",
    "ServerTimeoutError": "timeout",
}


def failure_reason(status: int, error_code: str) -> str:
    """A failed post's reason, from a fixed set: an error code chosen by whoever answered
    (or a network error's class) must not become a label of its own."""
    if error_code in _FAILURE_REASONS:
        return _FAILURE_REASONS[error_code]
    if status >= 500:
        return "server_error"
    if status == 0:
        return "network"
    return "other"


def backoff_seconds(attempt: int, retry_after: str | None, draw=random.random) -> float:
    """How long to wait before attempt ``attempt + 1``: full jitter on an exponential base
    (AWS's advice for throttled clients), never less than the server's Retry-After (seconds),
    never more than the cap."""
    delay = draw() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    if retry_after:
        with contextlib.suppress(ValueError):
            delay = max(delay, float(retry_after))
    return min(delay, BACKOFF_CAP_SECONDS)


# API Gateway's connection ids are [A-Za-z0-9_=-] (base64 of a few bytes, "=" padded): only
# "=" needs encoding, as botocore encodes it. urllib's quote looks up every byte in a dict,
# a measurable part of a post's CPU; an id outside this alphabet still goes through it.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.~=-]*")


def encode_connection_id(connection_id: str) -> str:
    """The id as the path carries it: ``quote(connection_id, safe="")``, faster."""
    if _PLAIN_ID.fullmatch(connection_id):
        return connection_id.replace("=", "%3D")
    return quote(connection_id, safe="")


def endpoint_url(api_id: str, stage_name: str) -> str:
    return f"https://{api_id}.execute-api.{get_region_name()}.amazonaws.com/{stage_name}"


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


class ManagementApi:
    """Posts frames from an asyncio loop owned by the calling thread, under one ``Policy``.

    Use it as a context manager; ``post`` blocks until every post has an outcome, so the
    caller may use the ORM between calls (the loop is not running then).
    """

    def __init__(self, policy: Policy, concurrency: int) -> None:
        self.policy = policy
        self._concurrency = concurrency
        self._loop = asyncio.new_event_loop()
        self._session: aiohttp.ClientSession | None = None
        self._signer: Signer | None = None

    def __enter__(self) -> "ManagementApi":
        self._session = self._loop.run_until_complete(self._open())
        return self

    def __exit__(self, *_exc) -> None:
        if self._session is not None:
            self._loop.run_until_complete(self._session.close())
        self._loop.close()

    async def _open(self) -> aiohttp.ClientSession:
        policy = self.policy
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._concurrency),
            # No ``total``: its timer per request cost more than the rest of the bound; with a
            # connection per worker no post waits for one, so connect + read bound each attempt.
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=policy.connect_timeout, sock_read=policy.read_timeout
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("Content-Type", "User-Agent"),
        )

    def post(self, targets: Sequence[Target], message: str) -> tuple[Counter, list[Target]]:
        """Post ``message`` to every target and mark the Gone ones disconnected. Returns the
        counts of final outcomes and the targets the API could not take this time."""
        by_endpoint: dict[tuple[str, str], list[Target]] = {}
        for target in targets:
            by_endpoint.setdefault((target.api_id, target.stage_name), []).append(target)
        counts: Counter = Counter()
        gone: list[int] = []
        unavailable: list[Target] = []
        for (api_id, stage_name), group in by_endpoint.items():
            ids = [target.connection_id for target in group]
            outcomes = self.post_many(api_id, stage_name, ids, message)
            for target, outcome in zip(group, outcomes, strict=True):
                if outcome == "unavailable":
                    unavailable.append(target)
                    continue
                counts[outcome] += 1
                if outcome == "gone":
                    gone.append(target.session_pk)
        mark_disconnected(gone)
        return counts, unavailable

    def post_many(
        self, api_id: str, stage_name: str, connection_ids: Sequence[str], message: str
    ) -> list[Outcome]:
        """Post ``message`` to each connection of one API stage; outcomes in the same order."""
        return self._loop.run_until_complete(
            self._post_many(endpoint_url(api_id, stage_name), connection_ids, message.encode())
        )

    def _current_signer(self) -> Signer:
        """The signer of the credentials now in force, kept while they last (its derived key
        is computed once a day)."""
        credentials = _aws_credentials()
        if self._signer is None or self._signer.credentials != credentials:
            self._signer = Signer(credentials, get_region_name())
        return self._signer

    async def _post_many(
        self, base_url: str, connection_ids: Sequence[str], body: bytes
    ) -> list[Outcome]:
        try:
            signer = self._current_signer()
        except BotoCoreError as error:
            log.warning(
                "ws.send.failed", error_code=type(error).__name__, count=len(connection_ids)
            )
            metrics.SEND_FAILED.labels(reason="credentials").inc(len(connection_ids))
            return ["failed"] * len(connection_ids)
        # Everything but the connection id is the same for every post: split it once.
        aws_prefix = f"{base_url}/@connections/"
        host, path_prefix = urlsplit(aws_prefix)[1:3]
        post_signer = signer.for_posts(host, path_prefix, payload_hash(body))
        target_prefix = management_url(aws_prefix)
        outcomes: list[Outcome] = ["failed"] * len(connection_ids)
        durations: dict[str, list[float]] = {}
        pending = iter(enumerate(connection_ids))

        async def worker() -> None:
            # A few workers taking turns on one iterator cost less than a task per post.
            for index, connection_id in pending:
                encoded = encode_connection_id(connection_id)
                headers = post_signer.headers(encoded)
                url = URL(target_prefix + encoded, encoded=True)
                started = time.monotonic()
                outcome, observed = await self._post(connection_id, url, headers, body)
                outcomes[index] = outcome
                durations.setdefault(observed, []).append(time.monotonic() - started)

        workers = min(self._concurrency, len(connection_ids))
        await asyncio.gather(*(worker() for _ in range(workers)))
        for observed, seconds in durations.items():
            metrics.observe_posts(observed, seconds)
        return outcomes

    async def _post(
        self, connection_id: str, url: URL, headers: dict[str, str], body: bytes
    ) -> tuple[Outcome, str]:
        """The post's outcome, and the one its metrics count (a throttled post apart)."""
        assert self._session is not None
        error_code = "Unknown"
        attempts = self.policy.attempts
        for attempt in range(attempts):
            retry_after = None
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
            if status == 429:
                metrics.THROTTLED_ANSWERS.inc()
            if 200 <= status < 300:
                return "sent", "sent"
            if error_code == "GoneException":
                log.info("ws.send.gone", target_connection_id=connection_id)
                return "gone", "gone"
            if status and status not in _RETRIED_STATUSES:
                break
            if attempt + 1 < attempts:
                await asyncio.sleep(backoff_seconds(attempt, retry_after))
        log.warning("ws.send.failed", target_connection_id=connection_id, error_code=error_code)
        reason = failure_reason(status, error_code)
        metrics.SEND_FAILED.labels(reason=reason).inc()
        observed = "throttled" if reason == "throttled" else "failed"
        final = "failed" if status and status not in _RETRIED_STATUSES else "unavailable"
        return final, observed


# One reply client per request thread: its loop and keep-alive connections are reused by
# every reply that thread makes, and no two threads share a loop. Closed at exit, when no
# loop runs any more, so the process ends without "Unclosed client session" errors.
_replies = threading.local()
_reply_clients: list[ManagementApi] = []
_reply_clients_lock = threading.Lock()


@atexit.register
def _close_reply_clients() -> None:
    with _reply_clients_lock:
        for client in _reply_clients:
            client.__exit__(None, None, None)
        _reply_clients.clear()


def reply(targets: Iterable[Target], message: str) -> Counter:
    """Post from inside a request or a command, bounded by ``reply_policy``: what could not
    be sent is logged (``ws.send.failed``) and counted as failed, never retried."""
    policy = reply_policy()
    client = getattr(_replies, "client", None)
    if client is None or client.policy != policy:
        with _reply_clients_lock:
            if client is not None:
                _reply_clients.remove(client)
                client.__exit__(None, None, None)
            client = _replies.client = ManagementApi(policy, concurrency=8).__enter__()
            _reply_clients.append(client)
    counts, unavailable = client.post(list(targets), message)
    counts["failed"] += len(unavailable)
    return counts
