"""The example real-time feature: API Gateway's callbacks, and the handlers clients call.

A team copies this view for its own feature. It configures the package's ``WebSocketView``
and closes the package's known gaps (docs/security.md lists them) in overrides, without
forking the package.
"""

import functools
import re
from collections.abc import Callable

import structlog
from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django_aws_api_gateway_websockets.conf import get_setting
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    WebSocketSession,
    hash_session_key,
    hash_user_auth,
)
from django_aws_api_gateway_websockets.views import WebSocketTokenView, WebSocketView

from broadcasts.queue import enqueue_broadcast
from realtime import admission, limits
from realtime.client_ip import client_ip, rate_limit_key
from realtime.protocol import (
    MAX_TEXT_LENGTH,
    accepted_versions,
    client_version,
    frame,
    reference,
)
from realtime.rejections import classify
from realtime.sending import send_to_session

log = structlog.get_logger(__name__)

BROADCAST_PERMISSION = "broadcasts.send_broadcast"


def message_handler(handler: Callable) -> Callable:
    """Every handler clients call: within the connection's message budget, in a protocol
    version this release accepts. Over budget: 429 and ``ws.message.rate_limited``, with an
    error frame for the first refusal only. An unknown version: the versions the client may
    use, in the oldest of them."""

    @functools.wraps(handler)
    def checked(self, request, *args, **kwargs) -> HttpResponse:
        self.client_version = client_version(self.body)
        spend = limits.spend_message_budget(
            self.websocket_session.pk, settings.WS_MESSAGES_PER_SECOND, settings.WS_MESSAGE_BURST
        )
        if not spend.allowed:
            log.warning("ws.message.rate_limited", first=spend.first_refusal)
            if spend.first_refusal:
                version = self.client_version or min(accepted_versions())
                self._reply("error", version=version, error="rate limited")
            return HttpResponse("Too many messages", status=429)
        if self.client_version is None:
            supported = sorted(accepted_versions())
            log.warning("ws.message.unsupported_version", version=str(self.body.get("v"))[:16])
            self._reply(
                "error",
                version=supported[0],
                error="unsupported protocol version",
                supported=supported,
            )
            return self._return_bad_request("Invalid request format (version)")
        return handler(self, request, *args, **kwargs)

    return checked


class RealtimeWebSocketView(WebSocketView):
    USE_WS_TOKEN = True
    ALLOW_UNLISTED_CHANNELS = False
    ALLOWED_HANDLERS = {"ping", "join", "leave", "broadcast", "default"}
    # The package's count-then-insert limit over-admits under concurrency; ``connect``
    # applies ``realtime.admission`` instead, with the same settings.
    RATE_LIMIT_ENABLED = False
    # Errors are logged as JSON; containers do not send mail.
    SEND_EXCEPTION_MAIL = False
    # ``re.match`` with ``$`` accepts a trailing newline; names are checked with fullmatch.
    CHANNEL_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]+")
    # The protocol version the current caller speaks (set by ``message_handler``).
    client_version: int | None = None

    # --- Closing the package's gaps ---------------------------------------------------

    def _get_client_ip(self, request) -> str:
        """Gap 1: count proxy hops from the right, not the client-written first entry."""
        return client_ip(
            request.headers.get("X-Forwarded-For", ""),
            request.META.get("REMOTE_ADDR", ""),
            settings.TRUSTED_PROXY_HOPS,
        )

    def _is_valid_channel_name(self, channel_name) -> bool:
        """Gap 3: the whole name must match, so ``room1\\n`` is refused."""
        return (
            isinstance(channel_name, str)
            and len(channel_name) <= self.MAX_CHANNEL_NAME_LENGTH
            and self.CHANNEL_NAME_PATTERN.fullmatch(channel_name) is not None
        )

    def _return_bad_request(self, msg: str) -> HttpResponseBadRequest:
        """Gap 7: log the refusal as a named event; answer without configuration details."""
        rejection = classify(msg)
        log.warning(rejection.event, reason=rejection.reason)
        return HttpResponseBadRequest(rejection.public_message)

    def _check_platform_registered_api_gateways(self, request) -> bool:
        """The gateway lookup; on $connect the same query also tells whether the connection
        id already has a session (gap 4), which saves a round trip on every connect."""
        gateways = ApiGateway.objects.filter(api_id=request.headers["X-Amzn-Apigateway-Api-Id"])
        if self.kwargs.get("route") == "connect":
            taken = WebSocketSession.objects.filter(
                connection_id=request.headers.get("Connectionid", "")
            )
            gateways = gateways.annotate(connection_id_taken=Exists(taken))
        self.api_gateway = gateways.first()
        return self.api_gateway is not None

    def get_channel_permission(self, channel_name: str):
        """The package's override point for caching the channel's row."""
        return admission.channel_permission(channel_name)

    def connect(self, request, *args, **kwargs) -> HttpResponse:
        connection_id = request.headers.get("Connectionid", "")
        structlog.contextvars.bind_contextvars(channel=request.GET.get("channel", "")[:128])
        if self.api_gateway.connection_id_taken:
            return self._duplicate_connect(connection_id)
        # Junk (bad headers, no signed-in session, a malformed channel) is refused before the
        # admission's locks and writes, so a flood of it costs no rate-limit row.
        refusal = self._cheap_refusal(request)
        if refusal:
            return self._return_bad_request(refusal)

        ip_address = rate_limit_key(
            self._get_client_ip(request), settings.WS_RATE_LIMIT_IPV6_PREFIX
        )
        # The session cookie's user: the per-user limit, and the owner the token must have.
        user = request.user
        try:
            # Gap 2: the advisory locks taken by admit() serialise count-then-record per IP
            # and per user until this transaction commits, across every replica.
            with transaction.atomic():
                verdict = admission.admit(
                    ip_address,
                    user,
                    self.RATE_LIMIT_MAX_ATTEMPTS,
                    self.RATE_LIMIT_WINDOW_MINUTES,
                    settings.WS_MAX_CONNECTIONS_PER_USER,
                )
                if verdict is admission.Admission.ADMITTED:
                    response = self._checked_connect(request)
                else:
                    response = self._return_bad_request(verdict.value)
                opened = response.status_code < 300
                admission.record_attempt(ip_address, user, successful=opened)
        except IntegrityError:
            # Gap 4: a concurrent duplicate $connect lost on the unique connection id. Its
            # transaction, token included, was rolled back: record its attempt on its own.
            admission.record_attempt(ip_address, user, successful=False)
            return self._duplicate_connect(connection_id)
        except OperationalError as error:
            # lock_timeout or statement_timeout (DB_*_TIMEOUT_MS): the admission's locks are
            # held by a stalled transaction. Nothing was written; the client retries.
            log.warning("ws.connect.busy", reason=type(error.__cause__ or error).__name__)
            return HttpResponse("Busy, try again", status=503)

        if opened:
            log.info("ws.connect.accepted", user_id=getattr(request.user, "pk", None))
        return response

    def _cheap_refusal(self, request) -> str | None:
        """The connect checks that take no lock and write nothing, as the package's refusal
        texts: the handshake headers, the channel name's form, a signed-in session (the
        token must belong to its user, so without one no token can pass)."""
        refusal = self._handshake_refusal(request)
        if refusal:
            return refusal
        try:
            self._get_channel_name(request)
        except ValueError:
            return "Invalid channel"
        if self.USE_WS_TOKEN and not (
            request.session.session_key and request.user.is_authenticated
        ):
            return "Invalid session"
        return None

    def _checked_connect(self, request) -> HttpResponse:
        """The package's connect checks that need the admission, without its rate limit
        (see ``connect``; ``_cheap_refusal`` ran the others before).

        Gap 5: every check that can refuse runs before anything is written, then the token
        is spent (one UPDATE, ``admission.consume_token``) and the session row written, in
        the caller's transaction: a refused connect spends nothing and needs no savepoint.
        The token must belong to the session's signed-in user, so the channel rules see the
        same user before and after it; the package checks the token before the channel, so
        a request failing both is refused as forbidden (403) here, not as a bad token (400).
        """
        channel_name = self._get_channel_name(request)
        if (
            self.CHECK_PERMISSIONS_ON_CONNECT and not self._passes_permission_checks(request)
        ) or not self.can_join_channel(request, channel_name):
            return self.permission_denied(request)
        passed, message = self._additional_connection_checks(request)
        if not passed:
            return self._return_bad_request(message)
        if self.USE_WS_TOKEN and not admission.consume_token(
            request.GET.get("ws_token", ""),
            request.session.session_key,
            request.user,
            get_setting("token_expiry_seconds"),
        ):
            return self._return_bad_request("Invalid or expired token")
        self._create_session(request, channel_name)
        return JsonResponse({})

    def _handshake_refusal(self, request) -> str | None:
        """The package's checks of the handshake headers, as its refusal texts."""
        if not self._expected_connection_headers(request):
            missing = [h for h in self.required_connection_headers if h not in request.headers]
            return f"Missing {len(missing)} headers"
        if not self._validate_connection_id(request.headers["Connectionid"]):
            return "Invalid connection ID"
        if not self._check_allowed_hosts(request):
            return "Host is not in AllowedHosts"
        if not self._check_host_is_in_origin(request):
            return "Host is not in Origin"
        return None

    def _create_session(self, request, channel_name: str) -> None:
        user = request.user if request.user.is_authenticated else None
        session_key = getattr(getattr(request, "session", None), "session_key", None)
        WebSocketSession.objects.create(
            connection_id=request.headers["Connectionid"],
            channel_name=channel_name,
            user=user,
            api_gateway=self.api_gateway,
            session_key_hash=hash_session_key(session_key) if session_key else "",
            auth_hash=hash_user_auth(user) if user else "",
        )

    @staticmethod
    def _duplicate_connect(connection_id: str) -> HttpResponse:
        """Gap 4: a repeated $connect changes nothing. It succeeds while the first one's
        session is open (API Gateway retried it), and is refused once that has closed."""
        if WebSocketSession.objects.filter(connection_id=connection_id, connected=True).exists():
            log.info("ws.connect.duplicate")
            return JsonResponse({})
        log.warning("ws.connect.rejected", reason="connection_id_reused")
        return HttpResponse("Connection ID already used", status=409)

    def permission_denied(self, request, *args, reason: str = "channel_rule", **kwargs):
        log.warning(
            "ws.permission.denied", reason=reason, user_id=getattr(request.user, "pk", None)
        )
        return super().permission_denied(request, *args, **kwargs)

    def _refuse_permission(self, request, reason: str) -> HttpResponse:
        """A message the sender may not send: tell the client in an error frame, answer 403."""
        self._reply("error", error="permission denied")
        return self.permission_denied(request, reason=reason)

    def invalid_gateway_secret(self, request, *args, **kwargs) -> HttpResponse:
        log.warning("ws.gateway_secret.invalid")
        return super().invalid_gateway_secret(request, *args, **kwargs)

    def _load_session(self, request) -> bool:
        found = super()._load_session(request)
        if found:
            structlog.contextvars.bind_contextvars(
                channel=self.websocket_session.channel_name,
                user_id=self.websocket_session.user_id,
            )
        return found

    def disconnect(self, request, *args, **kwargs):
        response = super().disconnect(request, *args, **kwargs)
        if response is None:
            log.info("ws.disconnected")
        return response

    # --- Handlers clients call with {"action": "<name>", "v": <version>, ...} ---------

    @message_handler
    def ping(self, request, *args, **kwargs) -> JsonResponse:
        """Answer with the caller's connection id, through the Management API."""
        self._reply("pong", connection_id=self.websocket_session.connection_id)
        return JsonResponse({})

    @message_handler
    def join(self, request, *args, **kwargs) -> HttpResponse:
        """Move this connection to ``channel``, if its ChannelPermission row allows."""
        refused = self.change_channel(request, *args, **kwargs)
        if refused is not None:
            return refused
        channel = self.websocket_session.channel_name
        structlog.contextvars.bind_contextvars(channel=channel)
        log.info("ws.channel.joined")
        self._reply("joined", channel=channel)
        return JsonResponse({})

    @message_handler
    def leave(self, request, *args, **kwargs) -> JsonResponse:
        """Leave the current channel; the connection stays open, in no channel."""
        session = self.websocket_session
        session.channel_name = ""
        session.save(update_fields=["channel_name", "updated_on"])
        log.info("ws.channel.left")
        self._reply("left")
        return JsonResponse({})

    @message_handler
    def broadcast(self, request, *args, **kwargs) -> HttpResponse:
        """Queue ``text`` for every connection in ``channel``. The sender needs the broadcast
        permission and must pass the channel's rule (a listed channel they could join)."""
        if not request.user.has_perm(BROADCAST_PERMISSION):
            return self._refuse_permission(request, reason="no_broadcast_permission")
        channel = self.body.get("channel", self.websocket_session.channel_name)
        text = self.body.get("text")
        if not self._is_valid_channel_name(channel):
            return self._return_bad_request("Invalid channel")
        if not isinstance(text, str) or not text or len(text) > MAX_TEXT_LENGTH:
            return self._return_bad_request("Invalid request format (text)")
        if not self.can_join_channel(request, channel):
            return self._refuse_permission(request, reason="channel_rule")
        # The rate's count and the row's insert under the user's lock; the reply after the
        # commit, so a slow Management API never holds the lock.
        with transaction.atomic():
            allowed = limits.may_broadcast(request.user, settings.WS_BROADCASTS_PER_MINUTE)
            if allowed:
                payload = frame(
                    "broadcast", channel=channel, text=text, sender=request.user.get_username()
                )
                broadcast = enqueue_broadcast(channel, payload, sender=request.user)
        if not allowed:
            log.warning("ws.broadcast.rate_limited", user_id=request.user.pk)
            self._reply("error", error="rate limited")
            return HttpResponse("Too many broadcasts", status=429)
        self._reply("broadcast_queued", broadcast_id=broadcast.pk, channel=channel)
        return JsonResponse({})

    @message_handler
    def default(self, request, *args, **kwargs) -> JsonResponse:
        """A frame naming no handler we offer: tell the client, change nothing."""
        log.info("ws.message.unknown_handler")
        self._reply("error", error="unknown action")
        return JsonResponse({})

    def _reply(self, kind: str, version: int | None = None, **fields) -> None:
        """Answer the caller in the protocol version it spoke, echoing its ``ref``."""
        data = frame(kind, version or self.client_version, ref=reference(self.body), **fields)
        send_to_session(
            self.websocket_session, self.api_gateway.api_id, self.api_gateway.stage_name, data
        )


class TokenView(WebSocketTokenView):
    """The package's token endpoint (CSRF-protected, signed-in users), with its outcome logged
    and its per-user limit exact: one user's requests count and insert one after another."""

    def post(self, request, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            with transaction.atomic():
                admission.serialise_per_user("token", request.user)
                response = super().post(request, *args, **kwargs)
        else:
            response = super().post(request, *args, **kwargs)
        if response.status_code == 200:
            log.info("ws.token.issued")
        else:
            log.warning("ws.token.refused", status=response.status_code)
        return response
