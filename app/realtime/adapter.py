"""The one module that uses django-aws-api-gateway-websockets' private methods.

The package's ``WebSocketView`` routes API Gateway's callbacks and runs most checks, but its
hooks are private (a leading underscore) and may change in any minor version. Everything
the layer needs from them is here: the hooks it overrides delegate to public methods of the
layer's view, and the checks it reuses are offered as public methods. The pin
(``<4.2``, pyproject.toml) and tests/test_package_contract.py hold the package to what this
module relies on; moving to the next minor version is a change here and in that test only.
"""

import structlog
from django.http import HttpResponse
from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.views import WebSocketView

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


def package_refusal(text: str) -> Refusal:
    for prefix, refusal in PACKAGE_REFUSALS:
        if text.startswith(prefix):
            return refusal
    return Refusal.OTHER


class PackageView(WebSocketView):
    """The package's view, with its private hooks turned into the layer's methods."""

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
