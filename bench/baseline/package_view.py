"""The package's own ``WebSocketView`` ``$connect``, as the package ships it: its rate limit
on (``RATE_LIMIT_ENABLED``, with the limits of ``settings.WEBSOCKETS``, the same the app's
connect is given, so neither refuses the load generator), its one-time token check
(``USE_WS_TOKEN``), its channel rule, its session row. Served under ``bench/`` only.

The one change, and the smallest that lets it answer: the package 4.1 refuses every callback
without ``X-Real-Ip``, ``X-Forwarded-Port`` and ``X-Amzn-Trace-Id``
(``additional_required_headers``), which API Gateway does not send an HTTP_PROXY integration
and the emulator does not send either (it sends no ``X-Real-Ip``; app/realtime/adapter.py
explains the same change in the app). Nothing else is overridden.
"""

from django_aws_api_gateway_websockets.views import WebSocketView


class PackageConnectView(WebSocketView):
    additional_required_headers: list[str] = []
