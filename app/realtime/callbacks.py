"""API Gateway's callbacks (``ws/connect``, ``ws/default``, ``ws/disconnect``), hardened.

Every check and limit lives here, below every feature: the gateway secret and headers, the
admission (rate limits and the connection cap, held across replicas), the one-time token,
the channel rules, the message budget and protocol versions, and the package's known gaps
closed (docs/security.md lists them). Features only register handlers and declare channels
(``realtime.api``); a frame reaches its handler once every check has passed.
"""

import dataclasses
import re
import time
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django_aws_api_gateway_websockets.conf import get_setting
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    WebSocketSession,
    serialise_message,
)

from observability import metrics
from realtime import admission, handlers, limits
from realtime.adapter import PackageView
from realtime.admission import ConnectRequest, Outcome
from realtime.broadcasts.queue import BROADCAST_PERMISSION, enqueue_broadcast, may_broadcast
from realtime.client_ip import client_ip, rate_limit_key
from realtime.handlers import Message, Refused
from realtime.management_api import Target, reply
from realtime.protocol import accepted_versions, client_version, frame, reference
from realtime.refusals import Refusal

log = structlog.get_logger(__name__)

CONNECT_REFUSALS = {
    Outcome.RATE_LIMITED: Refusal.RATE_LIMITED,
    Outcome.CONNECTION_LIMIT: Refusal.CONNECTION_LIMIT,
    Outcome.CHANNEL_RULE: Refusal.CHANNEL_RULE,
    Outcome.TOKEN_INVALID: Refusal.TOKEN_INVALID,
}


class CallbackView(PackageView):
    USE_WS_TOKEN = True
    ALLOW_UNLISTED_CHANNELS = False
    # Every frame goes to ``default``, which runs the handler a feature registered for it.
    ALLOWED_HANDLERS = {"default"}
    # The package's count-then-insert limit over-admits under concurrency; ``connect``
    # applies ``realtime.admission`` instead, with the same settings.
    RATE_LIMIT_ENABLED = False
    # Errors are logged as JSON; containers do not send mail.
    SEND_EXCEPTION_MAIL = False
    # ``re.match`` with ``$`` accepts a trailing newline; names are checked with fullmatch.
    CHANNEL_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]+")
    # The protocol version the current caller speaks (set by ``default``).
    client_version: int | None = None

    # API Gateway's calls carry no CSRF token: exempt, as the package's own dispatch is (its
    # decorator marks only the method it wraps, not an override).
    @method_decorator(csrf_exempt)
    def dispatch(self, request, *args, **kwargs) -> HttpResponse:
        """Every callback's latency by route and outcome (wsgateway_callback_duration_seconds)."""
        started = time.monotonic()
        status = 500
        try:
            response = super().dispatch(request, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            metrics.observe_callback(kwargs.get("route", ""), status, time.monotonic() - started)

    # --- The package's hooks (realtime.adapter) ---------------------------------------

    def client_ip(self, request) -> str:
        """Gap 1: count proxy hops from the right, not the client-written first entry."""
        return client_ip(
            request.headers.get("X-Forwarded-For", ""),
            request.META.get("REMOTE_ADDR", ""),
            settings.TRUSTED_PROXY_HOPS,
        )

    def valid_channel_name(self, channel_name) -> bool:
        """Gap 3: the whole name must match, so ``room1\\n`` is refused."""
        return (
            isinstance(channel_name, str)
            and len(channel_name) <= self.MAX_CHANNEL_NAME_LENGTH
            and self.CHANNEL_NAME_PATTERN.fullmatch(channel_name) is not None
        )

    def refuse(self, refusal: Refusal) -> HttpResponse:
        """Gap 7: log and count the refusal as a named event; answer without configuration
        details."""
        metrics.count_refusal(refusal.event, refusal.reason)
        if refusal.status == 403:
            user_id = getattr(self.request.user, "pk", None)
            log.warning(refusal.event, reason=refusal.reason, user_id=user_id)
        else:
            log.warning(refusal.event, reason=refusal.reason)
        return refusal.response()

    def find_gateway(self, request) -> ApiGateway | None:
        """The gateway's row. On $connect from the per-process cache: ``ws_open_connection``
        checks the row still exists in the same round trip. Other routes read it (their
        replies use its stage)."""
        api_id = request.headers["X-Amzn-Apigateway-Api-Id"]
        if self.kwargs.get("route") == "connect":
            return admission.gateway(api_id)
        return ApiGateway.objects.filter(api_id=api_id).first()

    def session_loaded(self, session: WebSocketSession) -> None:
        structlog.contextvars.bind_contextvars(
            channel=session.channel_name, user_id=session.user_id
        )

    def get_channel_permission(self, channel_name: str):
        """The package's override point for caching the channel's row."""
        return admission.channel_permission(channel_name)

    def permission_denied(self, request, *args, **kwargs) -> HttpResponse:
        return self.refuse(Refusal.CHANNEL_RULE)

    def invalid_gateway_secret(self, request, *args, **kwargs) -> HttpResponse:
        log.warning("ws.gateway_secret.invalid")
        metrics.GATEWAY_SECRET_INVALID.inc()
        return super().invalid_gateway_secret(request, *args, **kwargs)

    # --- $connect ---------------------------------------------------------------------

    def connect(self, request, *args, **kwargs) -> HttpResponse:
        structlog.contextvars.bind_contextvars(channel=request.GET.get("channel", "")[:128])
        # Junk (bad headers, no signed-in session, a malformed channel) is refused before the
        # admission's locks and writes, so a flood of it costs no rate-limit row.
        refusal = self._cheap_refusal(request)
        if refusal:
            return self.refuse(refusal)
        connect = self._connect_request(request)
        try:
            outcome = self._open(connect)
        except IntegrityError:
            # Gap 4: a concurrent duplicate $connect lost on the unique connection id. Its
            # statement, token included, was rolled back: record its attempt on its own, and
            # answer as any retry, by whether the winner's session is open.
            admission.record_attempt(connect.ip_address, connect.user, successful=False)
            return self._duplicate_connect(admission.existing_session(connect.connection_id))
        except OperationalError as error:
            # lock_timeout or statement_timeout (DB_*_TIMEOUT_MS): the admission's locks are
            # held by a stalled transaction. Nothing was written; the client retries.
            log.warning("ws.connect.busy", reason=type(error.__cause__ or error).__name__)
            return HttpResponse("Busy, try again", status=503)
        if outcome is Outcome.OPENED:
            log.info("ws.connect.accepted", user_id=getattr(request.user, "pk", None))
            return JsonResponse({})
        if outcome in (Outcome.DUPLICATE_OPEN, Outcome.DUPLICATE_CLOSED):
            return self._duplicate_connect(outcome)
        if outcome is Outcome.UNKNOWN_GATEWAY:
            return self.missing_headers(request)
        return self.refuse(CONNECT_REFUSALS[outcome])

    def _cheap_refusal(self, request) -> Refusal | None:
        """The connect checks that take no lock and write nothing: the handshake headers,
        the channel name's form, a signed-in session (the token must belong to its user, so
        without one no token can pass)."""
        refusal = self.handshake_refusal(request)
        if refusal:
            return refusal
        if self.requested_channel(request) is None:
            return Refusal.CHANNEL_INVALID
        if self.USE_WS_TOKEN and not (
            request.session.session_key and request.user.is_authenticated
        ):
            return Refusal.NO_SESSION
        return None

    def _connect_request(self, request) -> ConnectRequest:
        """What the admission needs. The channel rule is decided here (it reads only the
        cached row and the user) and applied by the admission after the rate limit, so a
        forbidden channel still counts as an attempt. The token must belong to the session's
        signed-in user; the package checks the token before the channel, so a request failing
        both is refused as forbidden (403) here, not as a bad token (400)."""
        channel = self.requested_channel(request)
        return ConnectRequest(
            gateway_id=self.api_gateway.pk,
            connection_id=request.headers["Connectionid"],
            ip_address=rate_limit_key(self.client_ip(request), settings.WS_RATE_LIMIT_IPV6_PREFIX),
            user=request.user,
            session_key=request.session.session_key,
            channel=channel,
            channel_allowed=self.can_join_channel(request, channel),
            token=request.GET.get("ws_token", "") if self.USE_WS_TOKEN else None,
        )

    def _open(self, connect: ConnectRequest) -> Outcome:
        """The admission; once more with a fresh gateway row if the cached one is gone."""
        limits = admission.Limits(
            max_attempts=self.RATE_LIMIT_MAX_ATTEMPTS,
            window_minutes=self.RATE_LIMIT_WINDOW_MINUTES,
            max_connections=settings.WS_MAX_CONNECTIONS_PER_USER,
            token_max_age_seconds=get_setting("token_expiry_seconds"),
        )
        outcome = admission.open_connection(connect, limits)
        if outcome is Outcome.UNKNOWN_GATEWAY:
            admission.forget_gateways()
            self.api_gateway = self.find_gateway(self.request)
            if self.api_gateway is not None:
                connect = dataclasses.replace(connect, gateway_id=self.api_gateway.pk)
                outcome = admission.open_connection(connect, limits)
        return outcome

    def _duplicate_connect(self, outcome: Outcome) -> HttpResponse:
        """Gap 4: a repeated $connect changes nothing. It succeeds while the first one's
        session is open (API Gateway retried it), and is refused once that has closed."""
        if outcome is Outcome.DUPLICATE_OPEN:
            log.info("ws.connect.duplicate")
            return JsonResponse({})
        return self.refuse(Refusal.CONNECTION_ID_REUSED)

    # --- $disconnect ------------------------------------------------------------------

    def disconnect(self, request, *args, **kwargs):
        response = super().disconnect(request, *args, **kwargs)
        if response is None:
            log.info("ws.disconnected")
        return response

    # --- $default: every client frame -------------------------------------------------

    def default(self, request, *args, **kwargs) -> HttpResponse:
        """Within the connection's message budget and in a protocol version this release
        accepts, run the handler the frame names. Over budget: 429 and
        ``ws.message.rate_limited``, with an error frame for the first refusal only. An
        unknown version: the versions the client may use, in the oldest of them."""
        self.client_version = client_version(self.body)
        spend = limits.spend_message_budget(
            self.websocket_session.pk, settings.WS_MESSAGES_PER_SECOND, settings.WS_MESSAGE_BURST
        )
        if not spend.allowed:
            log.warning("ws.message.rate_limited", first=spend.first_refusal)
            metrics.MESSAGE_RATE_LIMITED.inc()
            if spend.first_refusal:
                version = self.client_version or min(accepted_versions())
                self.reply("error", version=version, error="rate limited")
            return HttpResponse("Too many messages", status=429)
        if self.client_version is None:
            supported = sorted(accepted_versions())
            log.warning("ws.message.unsupported_version", version=str(self.body.get("v"))[:16])
            self.reply(
                "error",
                version=supported[0],
                error="unsupported protocol version",
                supported=supported,
            )
            return self.refuse(Refusal.BAD_FORMAT)
        return self._run_handler(request)

    def _run_handler(self, request) -> HttpResponse:
        """The feature's handler for the frame's action (``handler``, else ``action``, as the
        package selects), or an error frame if no feature offers it."""
        name = self.body.get(self.handler_selection_key) or self.body.get(self.route_selection_key)
        feature_handler = handlers.registered(str(name))
        if feature_handler is None:
            log.info("ws.message.unknown_handler")
            self.reply("error", error="unknown action")
            return JsonResponse({})
        session = self.websocket_session
        message = Message(
            body=self.body,
            user=request.user,
            connection_id=session.connection_id,
            channel=session.channel_name,
            version=self.client_version,
            _view=self,
        )
        try:
            feature_handler(message)
        except Refused as refused:
            if refused.error:
                self.reply("error", error=refused.error)
            return self.refuse(refused.refusal)
        return JsonResponse({})

    # --- What a handler's Message does (realtime.handlers) ----------------------------

    def reply(self, kind: str, version: int | None = None, **fields: Any) -> None:
        """Answer the caller in the protocol version it spoke, echoing its ``ref``."""
        data = frame(kind, version or self.client_version, ref=reference(self.body), **fields)
        session = self.websocket_session
        gateway = self.api_gateway
        target = Target(session.pk, session.connection_id, gateway.api_id, gateway.stage_name)
        reply([target], serialise_message(data))

    def join(self, channel: str) -> None:
        """Move this connection to ``channel``, if its rule allows the sender."""
        if not self.valid_channel_name(channel):
            raise Refused(Refusal.CHANNEL_INVALID)
        if not self.can_join_channel(self.request, channel):
            raise Refused(Refusal.CHANNEL_RULE)
        session = self.websocket_session
        session.channel_name = channel
        # Only what changed: a full save would write back the copy loaded at the start of
        # the request, undoing request_count and connected changes made since.
        session.save(update_fields=["channel_name", "updated_on"])
        structlog.contextvars.bind_contextvars(channel=channel)
        log.info("ws.channel.joined")

    def leave(self) -> None:
        session = self.websocket_session
        session.channel_name = ""
        session.save(update_fields=["channel_name", "updated_on"])
        log.info("ws.channel.left")

    def broadcast(self, channel: str, kind: str, **fields: Any) -> int:
        """Queue a frame for ``channel`` from the sender: the broadcast permission, the
        channel's rule (a listed channel they could join) and the per-user rate first."""
        user = self.request.user
        if not user.has_perm(BROADCAST_PERMISSION):
            raise Refused(Refusal.NO_BROADCAST_PERMISSION, error="permission denied")
        if not self.valid_channel_name(channel):
            raise Refused(Refusal.CHANNEL_INVALID)
        if not self.can_join_channel(self.request, channel):
            raise Refused(Refusal.CHANNEL_RULE, error="permission denied")
        # The rate's count and the row's insert under the user's lock; the reply after the
        # commit, so a slow Management API never holds the lock.
        with transaction.atomic():
            if not may_broadcast(user, settings.WS_BROADCASTS_PER_MINUTE):
                raise Refused(Refusal.BROADCAST_RATE_LIMITED, error="rate limited")
            payload = frame(kind, channel=channel, sender=user.get_username(), **fields)
            return enqueue_broadcast(channel, payload, sender=user).pk
