"""Send Management API calls to the local emulator instead of AWS, when configured.

Requests are signed for AWS's URL (the host and path API Gateway verifies); only where they
go changes. Only ``WS_MANAGEMENT_ENDPOINT_URL`` turns it on; production leaves it unset.
"""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


def management_url(url: str) -> str:
    """Where a Management API request for AWS's ``url`` goes: the emulator when configured."""
    endpoint = settings.WS_MANAGEMENT_ENDPOINT_URL
    if not endpoint:
        return url
    target = urlsplit(endpoint)
    original = urlsplit(url)
    # AWS's URL is https://{api}.execute-api.{region}.amazonaws.com/{stage}/@connections/{id}
    path = target.path.rstrip("/") + original.path
    return urlunsplit((target.scheme, target.netloc, path, original.query, ""))
