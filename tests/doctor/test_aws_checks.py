"""The doctor's checks of API Gateway against a setup the package provisioned itself (moto, plus
the fake deployments and domain targets of aws_fakes), then one seeded fault per ✗ case, each
asserting the line an operator reads: what the doctor saw and the fix it names."""

from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import ClientError
from django_aws_api_gateway_websockets.models import ApiGatewayAdditionalRoute

from doctor.findings import Status
from tests.doctor.aws_fakes import self_signed_certificate
from tests.doctor.conftest import DOMAIN, REGION, TARGET
from tests.support import gateway as gw


def _integration_of(env, route_key: str) -> str:
    routes = env.apigateway.get_routes(ApiId=env.record.api_id)["Items"]
    route = next(route for route in routes if route["RouteKey"] == route_key)
    return route["Target"].removeprefix("integrations/")


def test_a_correctly_provisioned_environment_passes_every_check(environment):
    findings = environment.findings()

    failed = {name: f.line() for name, f in findings.items() if f.status is Status.FAILED}
    assert failed == {}
    assert findings["token-flow"].status is Status.NOT_CHECKED
    assert "make smoke-test" in findings["token-flow"].saw
    passed = {name for name, f in findings.items() if f.status is Status.PASSED}
    assert passed == set(findings) - {"token-flow"}
    assert findings["dns"].saw == f"{DOMAIN} → CNAME {environment.target}"
    assert findings["ws-public-url"].saw == f"wss://{DOMAIN} (the custom domain)"


def test_an_alias_record_passes_dns_by_its_addresses(environment):
    environment.resolver.add(DOMAIN, ("198.51.100.7",))

    finding = environment.check("dns")

    assert finding.status is Status.PASSED
    assert "an alias record" in finding.saw


# --- The API ----------------------------------------------------------------------------


def test_a_record_without_an_api_id_names_the_provisioning_command(environment):
    environment.record.__class__.objects.filter(pk=environment.record.pk).update(api_id="")

    findings = environment.findings("aws")

    assert findings["api"].status is Status.FAILED
    assert "has no api_id" in findings["api"].saw
    assert f"createApiGateway --pk {environment.record.pk}" in findings["api"].fix
    # The checks that need the API say so instead of failing for the same reason.
    assert findings["routes"].status is Status.NOT_CHECKED
    assert findings["routes"].saw == "needs 'API in the region'"


def test_an_api_in_another_region_names_aws_gateway_region_name(environment):
    elsewhere = boto3.client("apigatewayv2", region_name="us-west-2")

    finding = environment.check("api", apigateway=elsewhere, region="us-west-2")

    assert finding.status is Status.FAILED
    assert finding.saw == f"no API {environment.record.api_id} in us-west-2"
    assert "set AWS_GATEWAY_REGION_NAME" in finding.fix


def test_a_route_selection_changed_in_aws_is_named(environment):
    environment.apigateway.update_api(
        ApiId=environment.record.api_id, RouteSelectionExpression="$request.body.type"
    )

    finding = environment.check("api")

    assert finding.status is Status.FAILED
    assert "route selection $request.body.type, the record says $request.body.action" in finding.saw
    assert "sync_to_aws()" in finding.fix


def test_a_role_that_may_not_read_the_api_is_named(environment):
    class Refusing:
        def __getattr__(self, _name):
            def refuse(**_kwargs):
                raise ClientError(
                    {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
                    "GetApi",
                )

            return refuse

    finding = environment.check("api", apigateway=Refusing())

    assert finding.status is Status.FAILED
    assert finding.saw == "AWS refused: AccessDeniedException (not authorized)"
    assert "k8s/iam/deploy-policy.json" in finding.fix


# --- Routes and integrations -----------------------------------------------------------


def test_an_integration_uri_edited_in_aws_is_named_route_by_route(environment):
    environment.apigateway.update_integration(
        ApiId=environment.record.api_id,
        IntegrationId=_integration_of(environment, "$default"),
        IntegrationUri="https://old.example.com/ws/default",
    )

    finding = environment.check("routes")

    assert finding.status is Status.FAILED
    assert finding.saw == (
        f"$default: calls https://old.example.com/ws/default, not {TARGET}default"
    )
    assert "sync_to_aws()" in finding.fix


def test_a_route_edited_in_the_admin_that_never_reached_aws_is_named(environment):
    route = environment.record.additional_routes.get()
    route.integration_url = f"{TARGET}chat-v2"
    route.save(push_to_aws=False)

    finding = environment.check("routes")

    assert finding.status is Status.FAILED
    assert finding.saw == f"chat: calls {TARGET}chat, not {TARGET}chat-v2"


def test_a_route_recorded_but_missing_in_aws_is_named(environment):
    ApiGatewayAdditionalRoute(
        api_gateway=environment.record,
        name="typing",
        route_key="typing",
        integration_url=f"{TARGET}typing",
    ).save(push_to_aws=False)

    finding = environment.check("routes")

    assert finding.status is Status.FAILED
    assert finding.saw == "typing: missing"


def test_a_route_only_in_aws_is_named(environment):
    api_id = environment.record.api_id
    integration = environment.apigateway.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="POST",
        IntegrationUri="https://elsewhere.example.net/hook",
    )
    environment.apigateway.create_route(
        ApiId=api_id, RouteKey="debug", Target=f"integrations/{integration['IntegrationId']}"
    )

    finding = environment.check("routes")

    assert finding.status is Status.FAILED
    assert finding.saw == "debug: only in AWS (no record)"
    assert "aws apigatewayv2 delete-route" in finding.fix


def test_an_integration_that_is_not_http_proxy_is_named(environment):
    environment.apigateway.update_integration(
        ApiId=environment.record.api_id,
        IntegrationId=_integration_of(environment, "$connect"),
        IntegrationType="HTTP",
    )

    finding = environment.check("routes")

    assert finding.status is Status.FAILED
    assert finding.saw == "$connect: integration HTTP POST, not HTTP_PROXY POST"
    assert "--integration-type HTTP_PROXY" in finding.fix


def test_a_gateway_secret_django_does_not_accept_is_named_without_showing_it(environment, settings):
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "gateway_secret": ["n" * 40]}

    finding = environment.check("routes")

    assert finding.status is Status.FAILED
    assert (
        "$connect: sends an X-Ws-Gateway-Secret that WS_GATEWAY_SECRET does not list" in finding.saw
    )
    assert "ws.gateway_secret.invalid" in finding.saw
    assert "updateApiGatewayIntegrations" in finding.fix
    assert gw.GATEWAY_SECRET not in finding.line() and "n" * 40 not in finding.line()


def test_an_unfinished_secret_rotation_is_named(environment, settings):
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "gateway_secret": ["n" * 40, gw.GATEWAY_SECRET]}

    finding = environment.check("routes")

    assert finding.status is Status.FAILED
    assert "sends an older X-Ws-Gateway-Secret (a rotation is unfinished)" in finding.saw


# --- The stage ----------------------------------------------------------------------------


def test_a_missing_stage_names_the_commands_that_create_it(environment):
    environment.apigateway.delete_stage(ApiId=environment.record.api_id, StageName="production")

    finding = environment.check("stage")

    assert finding.status is Status.FAILED
    assert finding.saw == f"no stage production on API {environment.record.api_id}"
    assert "aws apigatewayv2 create-stage" in finding.fix


def test_a_stage_without_a_deployment_is_named(environment):
    environment.apigateway.stage_deployments.clear()

    finding = environment.check("stage")

    assert finding.status is Status.FAILED
    assert finding.saw == "stage production has no deployment: clients cannot connect"
    assert "aws apigatewayv2 create-deployment" in finding.fix


def test_a_failed_deployment_shows_aws_s_message(environment):
    environment.apigateway.set_deployment(
        environment.record.api_id,
        "production",
        DeploymentStatus="FAILED",
        DeploymentStatusMessage="Invalid integration URI",
    )

    finding = environment.check("stage")

    assert finding.status is Status.FAILED
    assert "is FAILED (Invalid integration URI)" in finding.saw


def test_a_route_changed_after_the_deployment_is_named(environment):
    environment.apigateway.set_deployment(
        environment.record.api_id,
        "production",
        CreatedDate=datetime.now(UTC) - timedelta(hours=1),
    )

    finding = environment.check("stage")

    assert finding.status is Status.FAILED
    assert "but routes changed later in Django: chat (" in finding.saw
    assert finding.expected == "a deployment newer than the latest route change"


# --- Custom domain, mapping, certificate, DNS ---------------------------------------------


def test_without_a_custom_domain_its_checks_say_why_they_do_not_apply(environment):
    environment.record.__class__.objects.filter(pk=environment.record.pk).update(domain_name="")

    findings = environment.findings("domain", "mapping", "certificate", "dns")

    assert {f.status for f in findings.values()} == {Status.NOT_CHECKED}
    assert findings["dns"].saw == "no custom domain in the record: browsers use the stage URL"


def test_a_custom_domain_missing_in_aws_names_create_custom_domain(environment):
    # moto 5.2 fails deleting a domain that still has mappings: remove them first, as AWS does.
    for mapping in environment.apigateway.get_api_mappings(DomainName=DOMAIN)["Items"]:
        environment.apigateway.delete_api_mapping(
            ApiMappingId=mapping["ApiMappingId"], DomainName=DOMAIN
        )
    environment.apigateway.delete_domain_name(DomainName=DOMAIN)

    findings = environment.findings("domain", "mapping")

    assert findings["domain"].status is Status.FAILED
    assert findings["domain"].saw == f"no custom domain {DOMAIN} in {REGION}"
    assert f"createCustomDomain --pk {environment.record.pk}" in findings["domain"].fix
    assert findings["mapping"].status is Status.NOT_CHECKED


def test_a_custom_domain_that_is_not_available_is_named(environment):
    environment.apigateway.domain_extras[DOMAIN].update(
        DomainNameStatus="PENDING_CERTIFICATE_REIMPORT",
        DomainNameStatusMessage="The certificate has expired",
    )

    finding = environment.check("domain")

    assert finding.status is Status.FAILED
    assert "status PENDING_CERTIFICATE_REIMPORT (The certificate has expired)" in finding.saw


def test_a_domain_mapped_to_no_stage_of_the_api_is_named(environment):
    mappings = environment.apigateway.get_api_mappings(DomainName=DOMAIN)["Items"]
    environment.apigateway.delete_api_mapping(
        ApiMappingId=mappings[0]["ApiMappingId"], DomainName=DOMAIN
    )

    finding = environment.check("mapping")

    assert finding.status is Status.FAILED
    assert finding.saw == f"{DOMAIN} maps nothing"
    assert "aws apigatewayv2 create-api-mapping" in finding.fix


def test_a_certificate_for_another_name_is_named(environment):
    certificate, key = self_signed_certificate("other.example.com")
    arn = environment.acm.import_certificate(Certificate=certificate, PrivateKey=key)[
        "CertificateArn"
    ]
    environment.apigateway.domain_extras[DOMAIN]["CertificateArn"] = arn

    finding = environment.check("certificate")

    assert finding.status is Status.FAILED
    assert finding.saw == f"{arn}: covers other.example.com, not {DOMAIN}"


def test_a_certificate_waiting_for_validation_is_named(environment):
    arn = environment.acm.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")[
        "CertificateArn"
    ]
    environment.apigateway.domain_extras[DOMAIN]["CertificateArn"] = arn

    finding = environment.check("certificate")

    assert finding.status is Status.FAILED
    assert finding.saw == f"{arn}: status PENDING_VALIDATION"
    assert "DomainValidationOptions" in finding.fix


def test_a_certificate_in_another_region_is_named(environment):
    elsewhere = boto3.client("acm", region_name="us-east-1")
    certificate, key = self_signed_certificate(DOMAIN)
    arn = elsewhere.import_certificate(Certificate=certificate, PrivateKey=key)["CertificateArn"]
    environment.apigateway.domain_extras[DOMAIN]["CertificateArn"] = arn

    finding = environment.check("certificate")

    assert finding.status is Status.FAILED
    assert finding.saw == f"no certificate {arn} in {REGION}"


def test_a_websocket_host_that_does_not_resolve_is_named(environment):
    del environment.resolver.table[DOMAIN]

    finding = environment.check("dns")

    assert finding.status is Status.FAILED
    assert finding.saw.startswith(f"{DOMAIN} does not resolve")
    assert f"{DOMAIN} → {environment.target}" in finding.fix


def test_a_websocket_host_pointing_elsewhere_is_named(environment):
    environment.resolver.add(DOMAIN, ("192.0.2.50",), via=("old-alb.example.net",))

    finding = environment.check("dns")

    assert finding.status is Status.FAILED
    assert finding.saw == (
        f"{DOMAIN} resolves to 192.0.2.50 (via {DOMAIN} → old-alb.example.net), "
        f"{environment.target} to 198.51.100.7"
    )
