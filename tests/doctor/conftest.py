"""A correctly provisioned environment for the doctor: the package's own ``create_gateway`` and
``create_custom_domain`` run against moto (and the fake deployments of ``aws_fakes``), DNS
answers as it should, the Management API is the faithful fake of tests/support, and Django's
settings are the production example's (k8s/environments/prod/values.yaml)."""

from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
import pytest
from django_aws_api_gateway_websockets import models
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    ApiGatewayAdditionalRoute,
    clear_boto3_client_cache,
)
from moto import mock_aws

from doctor.context import Context
from doctor.findings import Finding
from doctor.runner import CHECKS, run_checks, select
from tests.doctor.aws_fakes import ApiGatewayWithDeployments, FakeResolver, self_signed_certificate

REGION = "eu-west-1"
TARGET = "https://app.example.com/ws/"
DOMAIN = "ws.example.com"
GATEWAY_ADDRESS = "198.51.100.7"


@dataclass
class Environment:
    record: ApiGateway
    apigateway: ApiGatewayWithDeployments
    acm: Any
    resolver: FakeResolver
    management_api: Any
    region: str = REGION

    @property
    def target(self) -> str:
        """Where ws.example.com must point: AWS's name for the custom domain."""
        return self.apigateway.get_domain_name(DomainName=DOMAIN)["DomainNameConfigurations"][0][
            "ApiGatewayDomainName"
        ]

    def context(self, **changes) -> Context:
        self.record.refresh_from_db()
        values = {
            "record": self.record,
            "region": self.region,
            "apigateway": self.apigateway,
            "acm": self.acm,
            "resolve": self.resolver,
            "emulated": False,
            **changes,
        }
        return Context(**values)

    def findings(self, *only: str, **changes) -> dict[str, Finding]:
        checks = select(only) if only else list(CHECKS)
        return {finding.check: finding for finding in run_checks(self.context(**changes), checks)}

    def check(self, name: str, **changes) -> Finding:
        return self.findings(name, **changes)[name]


@pytest.fixture
def aws(settings):
    settings.AWS_GATEWAY_REGION_NAME = REGION
    with mock_aws():
        clear_boto3_client_cache()
        yield
    clear_boto3_client_cache()


@pytest.fixture
def production_settings(settings):
    """The production example's hosts and cookies."""
    settings.ALLOWED_HOSTS = ["app.example.com"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com"]
    settings.SESSION_COOKIE_DOMAIN = ".example.com"
    settings.SESSION_COOKIE_SECURE = True
    settings.SESSION_COOKIE_SAMESITE = "Lax"
    settings.WS_PUBLIC_URL = f"wss://{DOMAIN}"
    return settings


@pytest.fixture
def environment(db, aws, production_settings, management_api) -> Environment:
    acm = boto3.client("acm", region_name=REGION)
    certificate, key = self_signed_certificate(DOMAIN)
    arn = acm.import_certificate(Certificate=certificate, PrivateKey=key)["CertificateArn"]
    apigateway = ApiGatewayWithDeployments(boto3.client("apigatewayv2", region_name=REGION))
    record = ApiGateway.objects.create(
        api_name="wsgateway-prod",
        stage_name="production",
        target_base_endpoint=TARGET,
        domain_name=DOMAIN,
        certificate_arn=arn,
    )
    ApiGatewayAdditionalRoute.objects.create(
        api_gateway=record, name="chat", route_key="chat", integration_url=f"{TARGET}chat"
    )
    with mock.patch.object(models, "get_boto3_client", return_value=apigateway):
        record.create_gateway()
        record.create_custom_domain()
    resolver = FakeResolver()
    env = Environment(record, apigateway, acm, resolver, management_api)
    resolver.add(env.target, (GATEWAY_ADDRESS,))
    resolver.add(DOMAIN, (GATEWAY_ADDRESS,), via=(env.target,))
    resolver.add(f"{record.api_id}.execute-api.{REGION}.amazonaws.com", ("203.0.113.10",))
    return env
