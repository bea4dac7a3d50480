from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from realtime import api


@login_required
@ensure_csrf_cookie
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "demo/index.html",
        {
            "demo_config": {
                "wsUrl": settings.WS_PUBLIC_URL,
                "tokenUrl": reverse("ws-token"),
                "autoConnect": True,
                "idleTimeoutSeconds": settings.WS_GATEWAY_IDLE_TIMEOUT_SECONDS,
                "maxDurationSeconds": settings.WS_GATEWAY_MAX_DURATION_SECONDS,
            },
            "channels": [channel.name for channel in api.declared_channels()],
            "can_broadcast": request.user.has_perm(api.BROADCAST_PERMISSION),
        },
    )
