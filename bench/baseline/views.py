"""The baselines, served by the same gunicorn processes and middleware as the app.

- ``insert``: a bare view doing one INSERT, the ceiling of a database-writing request here.
- ``broadcast``: starts a broadcast to a channel, either ours (``enqueue_broadcast``, the
  production path) or the package's own ``WebSocketSession.objects.filter(...)
  .send_message(...)`` with its default pool of 10 threads, and answers at once; the load
  generator times both until every client has the frame.
"""

import threading

from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_aws_api_gateway_websockets.models import WebSocketSession

from bench.baseline.models import BaselineRow
from realtime.broadcasts.queue import enqueue_broadcast


@csrf_exempt
@require_POST
def insert(request: HttpRequest) -> HttpResponse:
    BaselineRow.objects.create()
    return JsonResponse({})


def _package_broadcast(channel: str, payload: dict) -> None:
    try:
        WebSocketSession.objects.filter(channel_name=channel).send_message(payload)
    finally:
        connections.close_all()


@csrf_exempt
@require_POST
def broadcast(request: HttpRequest) -> HttpResponse:
    channel, marker = request.GET.get("channel", ""), request.GET.get("marker", "")
    payload = {"v": 2, "type": "broadcast", "channel": channel, "text": marker}
    implementation = request.GET.get("implementation")
    if implementation == "ours":
        with transaction.atomic():
            enqueue_broadcast(channel, payload)
    elif implementation == "package":
        # In a thread, like ours: the request answers at once and both are timed alike.
        threading.Thread(target=_package_broadcast, args=(channel, payload), daemon=True).start()
    else:
        return HttpResponseBadRequest("implementation must be ours or package")
    return JsonResponse({}, status=202)
