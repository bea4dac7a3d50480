"""What the checks look at: one ApiGateway record, read-only AWS clients in its region, a DNS
resolver, and the AWS answers they share, each fetched once."""

import functools
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django_aws_api_gateway_websockets import sync
from django_aws_api_gateway_websockets.models import ApiGateway, get_boto3_client, get_region_name


@dataclass(frozen=True)
class Resolution:
    """A name as the resolver saw it: the name, its CNAME chain and canonical name, and the
    IPv4 addresses it ends at."""

    names: tuple[str, ...]
    addresses: tuple[str, ...]


Resolver = Callable[[str], Resolution]


def normal_name(name: str) -> str:
    return name.lower().rstrip(".")


def system_resolver(host: str) -> Resolution:
    """The pod's own resolver (so the cluster's DNS, as the app sees it). Raises OSError when
    the name does not resolve."""
    canonical, aliases, addresses = socket.gethostbyname_ex(host)
    names = tuple(dict.fromkeys(normal_name(name) for name in (host, *aliases, canonical)))
    return Resolution(names, tuple(addresses))


@dataclass
class Context:
    record: ApiGateway
    region: str
    # boto3 clients (apigatewayv2 and acm) in ``region``; only their get/describe calls are used.
    apigateway: Any
    acm: Any
    # The local stack (WS_MANAGEMENT_ENDPOINT_URL set): the emulator stands in for API Gateway,
    # so there is no AWS API, domain or certificate to check, only the Management API it answers.
    emulated: bool = False
    resolve: Resolver = system_resolver

    @classmethod
    def for_record(cls, record: ApiGateway) -> "Context":
        """What the command checks: the package's own clients (its credentials and timeouts)
        in AWS_GATEWAY_REGION_NAME, and this process's resolver."""
        return cls(
            record=record,
            region=get_region_name(),
            apigateway=get_boto3_client("apigatewayv2"),
            acm=get_boto3_client("acm"),
            emulated=bool(settings.WS_MANAGEMENT_ENDPOINT_URL),
        )

    @functools.cached_property
    def api(self) -> dict:
        return self.apigateway.get_api(ApiId=self.record.api_id)

    @functools.cached_property
    def routes(self) -> list[dict]:
        return sync.list_routes(self.apigateway, self.record.api_id)

    @functools.cached_property
    def integrations(self) -> dict[str, dict]:
        return sync.list_integrations(self.apigateway, self.record.api_id)

    @functools.cached_property
    def domain(self) -> dict:
        """The custom domain's first (and, for a Regional domain, only) configuration."""
        answer = self.apigateway.get_domain_name(DomainName=self.record.domain_name)
        return answer["DomainNameConfigurations"][0]

    @functools.cached_property
    def mappings(self) -> list[dict]:
        """Every API mapping of the custom domain."""
        items: list[dict] = []
        token = None
        while True:
            extra = {"NextToken": token} if token else {}
            page = self.apigateway.get_api_mappings(DomainName=self.record.domain_name, **extra)
            items.extend(page.get("Items", []))
            token = page.get("NextToken")
            if not token:
                return items

    def own_mappings(self) -> list[dict]:
        """The mappings of the custom domain to the record's API and stage."""
        return [
            mapping
            for mapping in self.mappings
            if mapping["ApiId"] == self.record.api_id and mapping["Stage"] == self.record.stage_name
        ]
