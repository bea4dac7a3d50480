"""The package's WebSocketView configured like ours but without our fixes.

The gap tests run against both; against this one they are expected to fail, which proves
each test detects the gap it is about.
"""

from django.http import JsonResponse
from django.urls import path
from django_aws_api_gateway_websockets.views import WebSocketTokenView, WebSocketView


class PlainPackageView(WebSocketView):
    USE_WS_TOKEN = True
    ALLOW_UNLISTED_CHANNELS = False
    ALLOWED_HANDLERS = {"default"}
    SEND_EXCEPTION_MAIL = False

    def default(self, request, *args, **kwargs) -> JsonResponse:
        return JsonResponse({})


urlpatterns = [
    path("ws/<slug:route>", PlainPackageView.as_view()),
    path("api/ws-token/", WebSocketTokenView.as_view()),
]
