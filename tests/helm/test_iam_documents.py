"""k8s/iam: the policy and trust documents parse once filled in, name only real IAM actions,
and scope their resources (the runtime role to one API's stage)."""

import importlib.util
import json
import re

import pytest

from gateway_monitoring.plan import Target
from tests.helm import support

IAM = support.ROOT / "k8s" / "iam"
VALUES = {
    "ACCOUNT_ID": "123456789012",
    "REGION": "eu-west-1",
    "API_ID": "a1b2c3d4e5",
    "STAGE": "production",
    "OIDC_PROVIDER": "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
    "NAMESPACE": "wsgateway-prod",
    "SERVICE_ACCOUNT": "wsgateway-runtime",
    "HOSTED_ZONE_ID": "Z0123456789EXAMPLE",
    "DOMAIN_NAME": "ws.example.com",
    "CLUSTER_NAME": "prod-eu",
    "APP_LOG_GROUP": "/aws/containerinsights/prod-eu/application",
}

# Real action names, from the AWS Service Authorization Reference ("Actions, resources, and
# condition keys for …": Amazon API Gateway Management V2 [apigateway], Amazon API Gateway
# [execute-api], AWS Certificate Manager [acm], Amazon Route 53 [route53], AWS Security Token
# Service [sts], Amazon CloudWatch Logs [logs], Amazon CloudWatch [cloudwatch]). Only the ones
# these documents may use; a misspelt action is silently ignored by IAM, so it must fail here.
REAL_ACTIONS = {
    "execute-api:ManageConnections",
    "execute-api:Invoke",
    "apigateway:GET",
    "apigateway:POST",
    "apigateway:PATCH",
    "apigateway:PUT",
    "apigateway:DELETE",
    "acm:DescribeCertificate",
    "acm:ListCertificates",
    "route53:ChangeResourceRecordSets",
    "route53:ListResourceRecordSets",
    "route53:GetChange",
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "logs:DescribeLogGroups",
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "logs:DescribeMetricFilters",
    "logs:PutMetricFilter",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DeleteAlarms",
}
# The only statement allowed a "*" resource: acm:ListCertificates has no resource-level
# permissions.
STAR_RESOURCE_ALLOWED = {"acm:ListCertificates"}


def renderer():
    spec = importlib.util.spec_from_file_location("iam_render", IAM / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def document(name: str) -> dict:
    return renderer().render(name, VALUES)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


DOCUMENTS = sorted(p.name for p in IAM.glob("*.json"))


def test_the_expected_documents_exist():
    assert set(DOCUMENTS) == {
        "runtime-policy.json",
        "deploy-policy.json",
        "deploy-bootstrap-policy.json",
        "deploy-route53-policy.json",
        "deploy-app-log-filters-policy.json",
        "trust-irsa.json",
        "trust-pod-identity.json",
    }


@pytest.mark.parametrize("name", DOCUMENTS)
def test_documents_parse_and_name_only_real_actions(name):
    doc = document(name)
    assert doc["Version"] == "2012-10-17"
    assert "${" not in json.dumps(doc)
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name}: wildcard action {action}"
            assert action in REAL_ACTIONS, f"{name}: {action} is not a known IAM action"


@pytest.mark.parametrize("name", [n for n in DOCUMENTS if n.endswith("-policy.json")])
def test_policies_scope_their_resources(name):
    for statement in document(name)["Statement"]:
        resources = as_list(statement["Resource"])
        if "*" in resources:
            assert set(as_list(statement["Action"])) <= STAR_RESOURCE_ALLOWED, statement
        for resource in resources:
            assert resource == "*" or resource.startswith("arn:aws:"), resource


def test_runtime_role_may_only_post_to_one_stages_connections():
    statements = document("runtime-policy.json")["Statement"]
    assert len(statements) == 1
    statement = statements[0]
    assert as_list(statement["Action"]) == ["execute-api:ManageConnections"]
    assert as_list(statement["Resource"]) == [
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/production/POST/@connections/*"
    ]


def api_gateway_statements(name: str) -> list[dict]:
    return [
        s
        for s in document(name)["Statement"]
        if any(a.startswith("apigateway:") for a in as_list(s["Action"]))
    ]


@pytest.mark.parametrize(
    ("name", "services"),
    [
        ("deploy-policy.json", {"apigateway", "acm", "logs", "cloudwatch"}),
        ("deploy-bootstrap-policy.json", {"apigateway", "acm"}),
    ],
)
def test_deploy_roles_are_limited_to_api_gateway_v2_acm_read_and_monitoring(name, services):
    actions = {a for s in document(name)["Statement"] for a in as_list(s["Action"])}
    assert {a.split(":")[0] for a in actions} == services
    assert not {
        a for a in actions if a.startswith("acm:") and not re.match(r"acm:(Describe|List)", a)
    }
    for statement in api_gateway_statements(name):
        assert all(
            r.startswith("arn:aws:apigateway:eu-west-1::/") for r in as_list(statement["Resource"])
        )
        assert not any("/tags" in r for r in as_list(statement["Resource"]))


def test_the_steady_deploy_role_reaches_this_environments_api_and_domain_only():
    """Not every HTTP/WebSocket API of the region: the one API id and the one custom domain."""
    own = {
        "arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5",
        "arn:aws:apigateway:eu-west-1::/domainnames/ws.example.com",
    }
    allowed = own | {f"{resource}/*" for resource in own}
    account = "arn:aws:apigateway:eu-west-1::/account"
    for statement in api_gateway_statements("deploy-policy.json"):
        resources = set(as_list(statement["Resource"]))
        if resources == {account}:  # the account's CloudWatch role, read only
            assert as_list(statement["Action"]) == ["apigateway:GET"]
            continue
        assert resources <= allowed, statement["Resource"]


def _statements_of(name: str, service: str) -> dict[str, set[str]]:
    """Action -> its resources, for one service's actions in a document."""
    found: dict[str, set[str]] = {}
    for statement in document(name)["Statement"]:
        for action in as_list(statement["Action"]):
            if action.startswith(f"{service}:"):
                found.setdefault(action, set()).update(as_list(statement["Resource"]))
    return found


def test_monitoring_reaches_the_log_group_and_alarms_the_command_derives_only():
    """The names come from configure_gateway_monitoring's own Target, so a renamed log group
    or alarm prefix fails here before it fails in AWS with AccessDenied."""
    target = Target(VALUES["API_ID"], VALUES["STAGE"])
    log_group = f"arn:aws:logs:eu-west-1:123456789012:log-group:{target.log_group}"
    assert _statements_of("deploy-policy.json", "logs") == {
        "logs:DescribeLogGroups": {"arn:aws:logs:eu-west-1:123456789012:log-group:*"},
        "logs:CreateLogGroup": {log_group, f"{log_group}:*"},
        "logs:PutRetentionPolicy": {log_group, f"{log_group}:*"},
    }
    alarms = {f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{target.alarm_prefix}*"}
    assert _statements_of("deploy-policy.json", "cloudwatch") == {
        "cloudwatch:DescribeAlarms": alarms,
        "cloudwatch:PutMetricAlarm": alarms,
        "cloudwatch:DeleteAlarms": alarms,
    }
    app_logs = f"arn:aws:logs:eu-west-1:123456789012:log-group:{VALUES['APP_LOG_GROUP']}"
    assert _statements_of("deploy-app-log-filters-policy.json", "logs") == {
        "logs:DescribeMetricFilters": {app_logs, f"{app_logs}:*"},
        "logs:PutMetricFilter": {app_logs, f"{app_logs}:*"},
    }


def test_the_bootstrap_deploy_role_can_create_but_change_or_delete_nothing():
    """The first provisioning creates the API (its id does not exist before, and HTTP and
    WebSocket APIs pass no tags to their routes and integrations for IAM to check: AWS
    documents tag inheritance for REST APIs only). So the bootstrap role may add, never
    modify or delete, and reads only what it must; docs/deployment.md swaps it for the steady
    one once the API id is known."""
    actions = {
        a
        for s in api_gateway_statements("deploy-bootstrap-policy.json")
        for a in as_list(s["Action"])
    }
    assert actions == {"apigateway:GET", "apigateway:POST"}
    for statement in api_gateway_statements("deploy-bootstrap-policy.json"):
        for resource in as_list(statement["Resource"]):
            if "/domainnames/" in resource:
                assert "/domainnames/ws.example.com" in resource


def test_irsa_trust_names_one_service_account_of_one_cluster():
    (statement,) = document("trust-irsa.json")["Statement"]
    provider = VALUES["OIDC_PROVIDER"]
    assert statement["Principal"] == {
        "Federated": f"arn:aws:iam::123456789012:oidc-provider/{provider}"
    }
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        f"{provider}:sub": "system:serviceaccount:wsgateway-prod:wsgateway-runtime",
        f"{provider}:aud": "sts.amazonaws.com",
    }


def test_pod_identity_trust_names_one_service_account_of_one_cluster_and_account():
    (statement,) = document("trust-pod-identity.json")["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(as_list(statement["Action"])) == ["sts:AssumeRole", "sts:TagSession"]
    # The session tags EKS Pod Identity sets (EKS user guide, "pod-id-role").
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": "123456789012",
        "aws:RequestTag/eks-cluster-name": "prod-eu",
        "aws:RequestTag/kubernetes-namespace": "wsgateway-prod",
        "aws:RequestTag/kubernetes-service-account": "wsgateway-runtime",
    }


def test_the_renderer_names_a_missing_placeholder():
    with pytest.raises(SystemExit, match="API_ID"):
        renderer().render("runtime-policy.json", {"ACCOUNT_ID": "1", "REGION": "x", "STAGE": "s"})


def test_chart_service_account_names_match_the_trust_examples():
    """docs/deployment.md fills SERVICE_ACCOUNT with the chart's names: keep them in step."""
    objects = support.render(support.values_for(support.CHART / "ci" / "irsa-values.yaml"))
    names = {o["metadata"]["name"] for o in support.find(objects, "ServiceAccount")}
    assert {"wsgateway-runtime", "wsgateway-deploy"} <= names
