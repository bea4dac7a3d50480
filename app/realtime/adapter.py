"""The one module that uses django-aws-api-gateway-websockets' private methods.

The package's ``WebSocketView`` routes API Gateway's callbacks and runs most checks, but its
hooks are private (a leading underscore) and may change in any minor version. Everything
the layer needs from them is here: the hooks it overrides delegate to public methods of the
layer's view, and the checks it reuses are offered as public methods. The pin
(``<4.2``, pyproject.toml) and tests/test_package_contract.py hold the package to what this
module relies on; moving to the next minor version is a change here and in that test only.
"""

import structlog
from django.conf import settings
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.views import WebSocketView

from realtime import census
from realtime.refusals import Refusal

log = structlog.get_logger(__name__)

# The texts the package's own code answers refusals with (views.py of 4.1), matched on
# their start, in order. Only the package's texts: the layer refuses with ``Refusal``.
PACKAGE_REFUSALS: tuple[tuple[str, Refusal], ...] = (
    ("Invalid request headers", Refusal.MISSING_HEADERS),
    ("Invalid connection ID", Refusal.UNKNOWN_CONNECTION),
    ("Invalid request format", Refusal.BAD_FORMAT),
    ("Unexpected Useragent", Refusal.BAD_USER_AGENT),
    ("Invalid channel", Refusal.CHANNEL_INVALID),
)


# What API Gateway sends an HTTP_PROXY integration is configured by its request parameters:
# the package maps ``connectionId`` (and the gateway secret) on every route
# (``integration_request_parameters``), and the client's own headers reach the integration on
# $connect only ("Request header (supported only for the $connect route)",
# https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-data-mapping.html).
# AWS documents no other header for a WebSocket integration. The package also requires
# X-Real-Ip, X-Forwarded-Port and X-Amzn-Trace-Id (``additional_required_headers``): what a
# proxy such as nginx may add, not what API Gateway sends, and an ALB never adds X-Real-Ip.
# The layer requires none of them: the client IP comes from X-Forwarded-For by trusted hops
# (realtime.client_ip), the request id falls back to a new one (observability.middleware).
# The header census (realtime.census) shows what a real stage sends.
EXTENSIONS_HEADER = "Sec-Websocket-Extensions"


def handshake_headers() -> list[str]:
    """The client's handshake headers $connect requires: the package's list, without
    Sec-WebSocket-Extensions when WS_ALLOW_CLIENTS_WITHOUT_EXTENSIONS lets native clients
    (which may offer no extension; every browser offers permessage-deflate) connect."""
    headers = WebSocketView.required_connection_headers
    if settings.WS_ALLOW_CLIENTS_WITHOUT_EXTENSIONS:
        return [header for header in headers if header != EXTENSIONS_HEADER]
    return list(headers)


def required_headers(route: str) -> list[str]:
    """The headers a callback on ``route`` is refused without (the gateway secret apart)."""
    handshake = handshake_headers() if route == "connect" else []
    return [*WebSocketView.required_headers, *handshake]


def package_refusal(text: str) -> Refusal:
    for prefix, refusal in PACKAGE_REFUSALS:
        if text.startswith(prefix):
            return refusal
    return Refusal.OTHER


# API Gateway sends no CSRF token; the package exempts its dispatch, and so must an override.
@method_decorator(csrf_exempt, name="dispatch")
class PackageView(WebSocketView):
    """The package's view, with its private hooks turned into the layer's methods."""

    # See required_headers: none of the package's additional headers is required.
    additional_required_headers: list[str] = []

    @property
    def required_connection_headers(self) -> list[str]:
        return handshake_headers()

    def dispatch(self, request, *args, **kwargs):
        # Counted only once the gateway secret is right: a forged call's names, or its
        # made-up routes, never reach the census.
        if self._gateway_secret_valid(request):
            route = self.kwargs.get("route", "")
            census.report(route, list(request.headers), required_headers(route))
        return super().dispatch(request, *args, **kwargs)

    # --- The package's hooks, delegated -----------------------------------------------

    def _get_client_ip(self, request) -> str:
        return self.client_ip(request)

    def _is_valid_channel_name(self, channel_name) -> bool:
        return self.valid_channel_name(channel_name)

    def _return_bad_request(self, msg: str) -> HttpResponse:
        return self.refuse(package_refusal(msg))

    def _check_platform_registered_api_gateways(self, request) -> bool:
        self.api_gateway = self.find_gateway(request)
        return self.api_gateway is not None

    def _load_session(self, request) -> bool:
        found = super()._load_session(request)
        if found:
            self.session_loaded(self.websocket_session)
        return found

    # --- Overridden by the layer's view ------------------------------------------------

    def client_ip(self, request) -> str:
        raise NotImplementedError

    def valid_channel_name(self, channel_name) -> bool:
        raise NotImplementedError

    def refuse(self, refusal: Refusal) -> HttpResponse:
        raise NotImplementedError

    def find_gateway(self, request):
        raise NotImplementedError

    def session_loaded(self, session: WebSocketSession) -> None:
        """Called once the message's or disconnect's session is known."""

    # --- The package's checks, for the layer -------------------------------------------

    def handshake_refusal(self, request) -> Refusal | None:
        """The package's checks of the $connect handshake headers."""
        if not self._expected_connection_headers(request):
            return Refusal.MISSING_CONNECT_HEADERS
        if not self._validate_connection_id(request.headers["Connectionid"]):
            return Refusal.UNKNOWN_CONNECTION
        if not self._check_allowed_hosts(request):
            return Refusal.HOST_NOT_ALLOWED
        if not self._check_host_is_in_origin(request):
            return Refusal.ORIGIN_MISMATCH
        return None

    def requested_channel(self, request) -> str | None:
        """The channel the $connect asks for (or the gateway's default); None if malformed."""
        try:
            return self._get_channel_name(request)
        except ValueError:
            return None
