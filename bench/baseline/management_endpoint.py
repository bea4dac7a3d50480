"""The package's own sender (the baseline) posts through boto3 to AWS's endpoint; in the
benchmark it must reach the emulator instead.

The package builds its ``apigatewaymanagementapi`` client with an AWS endpoint of its own
(``AWS_ENDPOINT_URL*`` cannot override it), so each request's URL is rewritten in botocore's
public ``before-send`` event on boto3's default session, which the package's clients are made
from, with the layer's own rule (``realtime.management_endpoint``). The app itself posts
through ``realtime.management_api`` and needs none of this.
"""

import boto3

from realtime.management_endpoint import management_url

_HANDLER_ID = "bench-management-endpoint-redirect"


def _rewrite_url(request, **_kwargs) -> None:
    request.url = management_url(request.url)


def install() -> None:
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register(
        "before-send.apigatewaymanagementapi", _rewrite_url, unique_id=_HANDLER_ID
    )
