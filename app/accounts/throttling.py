"""The client address django-axes counts failed sign-ins by (AXES_CLIENT_IP_CALLABLE).

The same address the connect rate limit uses: X-Forwarded-For read by trusted proxy hops
from the right (a client-written entry proves nothing), IPv6 clients by their network.
"""

from django.conf import settings
from django.http import HttpRequest

from realtime.client_ip import client_ip, rate_limit_key


def client_address(request: HttpRequest) -> str:
    address = client_ip(
        request.headers.get("X-Forwarded-For", ""),
        request.META.get("REMOTE_ADDR", ""),
        settings.TRUSTED_PROXY_HOPS,
    )
    return rate_limit_key(address, settings.WS_RATE_LIMIT_IPV6_PREFIX)
