"""The one-time token a signed-in browser fetches before it opens a WebSocket."""

import structlog
from django.db import transaction
from django.http import HttpResponse
from django_aws_api_gateway_websockets.views import WebSocketTokenView

from realtime import admission

log = structlog.get_logger(__name__)


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
