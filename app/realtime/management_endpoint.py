"""Send Management API calls to the local emulator instead of AWS, when configured.

The package builds its ``apigatewaymanagementapi`` client with an AWS endpoint of its own
(``AWS_ENDPOINT_URL*`` cannot override it), so we rewrite each request's URL in botocore's
public ``before-send`` event on boto3's default session, which the package's clients are
made from. Only ``WS_MANAGEMENT_ENDPOINT_URL`` turns it on; production leaves it unset.
"""

from urllib.parse import urlsplit, urlunsplit

import boto3
from django.conf import settings

_HANDLER_ID = "wsgateway-management-endpoint-redirect"


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


def _rewrite_url(request, **_kwargs) -> None:
    request.url = management_url(request.url)


def install_management_endpoint_redirect() -> bool:
    """Register the rewrite on boto3's default session if the setting is set."""
    if not settings.WS_MANAGEMENT_ENDPOINT_URL:
        return False
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register(
        "before-send.apigatewaymanagementapi", _rewrite_url, unique_id=_HANDLER_ID
    )
    return True
