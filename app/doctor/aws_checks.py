"""The checks of API Gateway itself, against exactly what the package provisions
(``ApiGateway.create_gateway`` and ``create_custom_domain``, django-aws-api-gateway-websockets
4.1): a WEBSOCKET API, one HTTP_PROXY POST integration per route whose URI is
``target_base_endpoint`` plus ``connect``/``disconnect``/``default`` (an additional route's
own ``integration_url``) and whose request parameters are ``integration_request_parameters()``,
a stage with a deployment, a Regional custom domain with an ACM certificate and an API mapping
without a path.

Each check returns what it saw, or raises ``Failed`` (what it saw, what it expected, the fix)
or ``NotChecked``. Read-only: only get/describe calls.
"""

from datetime import datetime, timedelta

from botocore.exceptions import ClientError
from django_aws_api_gateway_websockets.models import (
    GATEWAY_SECRET_HEADER,
    get_gateway_secrets,
    integration_request_parameters,
)
from django_aws_api_gateway_websockets.sync import (
    DEFAULT_ROUTE_KEYS,
    integration_id_of,
    is_not_found,
)

from doctor.context import Context, normal_name
from doctor.findings import Failed, NotChecked

# The request parameters the package maps on every integration it creates.
CONNECTION_PARAMETER = "integration.request.header.connectionId"
SECRET_PARAMETER = f"integration.request.header.{GATEWAY_SECRET_HEADER}"
# AWS reports a deployment's CreatedDate in whole seconds: a route saved in the same second,
# just before the deployment, must not look newer than it.
_DEPLOYMENT_TIME_RESOLUTION = timedelta(seconds=1)


def _provision_fix(record) -> str:
    return (
        f"python manage.py createApiGateway --pk {record.pk} under the deploy role (the "
        "provisioning Job, docs/deployment.md step 5)"
    )


def _push_fix(record) -> str:
    return (
        "push the records to AWS under the deploy role (it redeploys the stage): python "
        'manage.py shell -c "from django_aws_api_gateway_websockets.models import ApiGateway; '
        f"print(ApiGateway.objects.get(pk={record.pk}).sync_to_aws())\" (the admin's "
        '"Sync to AWS" action)'
    )


def _deploy_fix(ctx: Context) -> str:
    record = ctx.record
    return (
        f"aws apigatewayv2 create-deployment --api-id {record.api_id} "
        f"--stage-name {record.stage_name} --region {ctx.region}"
    )


def check_api(ctx: Context) -> str:
    record = ctx.record
    if not record.api_id:
        last_error = f", last error {record.last_error}" if record.last_error else ""
        raise Failed(
            f"ApiGateway {record.pk} ({record.api_name}) has no api_id (provisioning "
            f"{record.provisioning_status}{last_error})",
            "the id of the WebSocket API the package created",
            _provision_fix(record),
        )
    try:
        api = ctx.api
    except ClientError as error:
        if not is_not_found(error):
            raise
        raise Failed(
            f"no API {record.api_id} in {ctx.region}",
            f"the record's API in AWS_GATEWAY_REGION_NAME ({ctx.region})",
            "if the API lives in another region, set AWS_GATEWAY_REGION_NAME (config.awsRegion) "
            "to it; if it was deleted, set the record's provisioning status to Pending and "
            + _provision_fix(record),
        ) from error
    problems = []
    if api.get("ProtocolType") != "WEBSOCKET":
        problems.append(f"protocol {api.get('ProtocolType')}, not WEBSOCKET")
    selection = api.get("RouteSelectionExpression")
    if selection != record.route_selection_expression:
        problems.append(
            f"route selection {selection}, the record says {record.route_selection_expression}"
        )
    if problems:
        raise Failed(
            f"API {record.api_id}: " + "; ".join(problems),
            "a WEBSOCKET API routing as the record says",
            _push_fix(record),
        )
    return (
        f'{record.api_id} "{api.get("Name")}" in {ctx.region}: WEBSOCKET, routes by '
        f"{selection}, endpoint {api.get('ApiEndpoint')}"
    )


def expected_routes(record) -> dict[str, str]:
    """Route key -> the integration URI the package gives it."""
    if not record.target_base_endpoint:
        raise Failed(
            f"ApiGateway {record.pk} has no target_base_endpoint",
            "the URL API Gateway calls, e.g. https://app.example.com/ws/",
            "set it in the admin (docs/deployment.md step 5), then push it to AWS",
        )
    base = record.target_base_endpoint
    routes = {key: f"{base}{key.replace('$', '')}" for key in DEFAULT_ROUTE_KEYS}
    for route in record.additional_routes.all():
        routes[route.route_key] = route.integration_url
    return routes


def _secret_problem(sent: str | None, wanted: str | None) -> str | None:
    """What is wrong with the gateway secret a route's integration sends, never the secret."""
    if sent == wanted:
        return None
    accepted = {f"'{secret}'" for secret in get_gateway_secrets()}
    if sent in accepted:
        return "sends an older X-Ws-Gateway-Secret (a rotation is unfinished)"
    if sent is None:
        return "sends no X-Ws-Gateway-Secret: Django refuses every call (ws.gateway_secret.invalid)"
    return (
        "sends an X-Ws-Gateway-Secret that WS_GATEWAY_SECRET does not list: Django refuses "
        "every call (ws.gateway_secret.invalid)"
    )


def _integration_problems(integration: dict, uri: str, wanted: dict[str, str]) -> dict[str, str]:
    """Kind of fix -> what differs, for one route's integration."""
    problems: dict[str, list[str]] = {}
    kind = (integration.get("IntegrationType"), integration.get("IntegrationMethod"))
    if kind != ("HTTP_PROXY", "POST"):
        problems.setdefault("type", []).append(
            f"integration {kind[0]} {kind[1]}, not HTTP_PROXY POST"
        )
    if integration.get("IntegrationUri") != uri:
        problems.setdefault("push", []).append(
            f"calls {integration.get('IntegrationUri')}, not {uri}"
        )
    parameters = integration.get("RequestParameters") or {}
    if parameters.get(CONNECTION_PARAMETER) != wanted[CONNECTION_PARAMETER]:
        problems.setdefault("parameters", []).append("does not map connectionId")
    if SECRET_PARAMETER in wanted:
        secret = _secret_problem(parameters.get(SECRET_PARAMETER), wanted[SECRET_PARAMETER])
        if secret:
            problems.setdefault("parameters", []).append(secret)
    return {kind: ", ".join(found) for kind, found in problems.items()}


def check_routes(ctx: Context) -> str:
    record = ctx.record
    expected = expected_routes(record)
    try:
        wanted = integration_request_parameters()
    except ValueError as error:
        raise Failed(
            "WS_GATEWAY_SECRET's first entry cannot be sent by API Gateway",
            str(error),
            "set a secret of 32+ characters: openssl rand -base64 48 | tr -d '\\n'",
        ) from error
    remote = {route["RouteKey"]: route for route in ctx.routes}
    drift: list[str] = []
    fixes: set[str] = set()
    for key, uri in expected.items():
        route = remote.get(key)
        integration = ctx.integrations.get(integration_id_of(route)) if route else None
        if route is None or integration is None:
            drift.append(f"{key}: {'missing' if route is None else 'no integration'}")
            fixes.add("push")
            continue
        for kind, problem in _integration_problems(integration, uri, wanted).items():
            drift.append(f"{key}: {problem}")
            fixes.add(kind)
    for key in sorted(remote.keys() - expected.keys()):
        drift.append(f"{key}: only in AWS (no record)")
        fixes.add("aws-only")
    if drift:
        raise Failed("; ".join(drift), _expected_routes_text(expected), _routes_fix(ctx, fixes))
    extra = len(expected) - len(DEFAULT_ROUTE_KEYS)
    more = f" and {extra} more" if extra else ""
    secret = " and the gateway secret" if len(wanted) > 1 else ""
    return (
        f"$connect, $disconnect, $default{more} call {record.target_base_endpoint}…, "
        f"HTTP_PROXY POST with connectionId{secret}"
    )


def _expected_routes_text(expected: dict[str, str]) -> str:
    return (
        "each route HTTP_PROXY POST to "
        + ", ".join(f"{key} → {uri}" for key, uri in expected.items())
        + ", with connectionId and the first WS_GATEWAY_SECRET"
    )


def _routes_fix(ctx: Context, kinds: set[str]) -> str:
    record = ctx.record
    fixes = {
        "push": _push_fix(record),
        "parameters": (
            f"python manage.py updateApiGatewayIntegrations --pk {record.pk} --dry-run, then "
            "without --dry-run (under the deploy role; it redeploys the stage)"
        ),
        "type": (
            f"aws apigatewayv2 update-integration --api-id {record.api_id} --integration-id <id> "
            "--integration-type HTTP_PROXY --integration-method POST, then " + _deploy_fix(ctx)
        ),
        "aws-only": (
            f"delete the route (aws apigatewayv2 delete-route --api-id {record.api_id} "
            '--route-id <id>, then deploy) or record it (the admin\'s "Sync from AWS" action)'
        ),
    }
    return "; ".join(
        fixes[kind] for kind in ("push", "parameters", "type", "aws-only") if kind in kinds
    )


def check_stage(ctx: Context) -> str:
    record = ctx.record
    client = ctx.apigateway
    try:
        stage = client.get_stage(ApiId=record.api_id, StageName=record.stage_name)
    except ClientError as error:
        if not is_not_found(error):
            raise
        raise Failed(
            f"no stage {record.stage_name} on API {record.api_id}",
            "the record's stage_name, deployed",
            f"aws apigatewayv2 create-stage --api-id {record.api_id} --stage-name "
            f"{record.stage_name} --region {ctx.region}, then " + _deploy_fix(ctx),
        ) from error
    deployment_id = stage.get("DeploymentId")
    if not deployment_id:
        raise Failed(
            f"stage {record.stage_name} has no deployment: clients cannot connect",
            "a deployment of the API on the stage",
            _deploy_fix(ctx),
        )
    deployment = client.get_deployment(ApiId=record.api_id, DeploymentId=deployment_id)
    status = deployment.get("DeploymentStatus")
    if status != "DEPLOYED":
        message = deployment.get("DeploymentStatusMessage") or "no message"
        raise Failed(
            f"deployment {deployment_id} of stage {record.stage_name} is {status} ({message})",
            "DEPLOYED",
            "PENDING: run the doctor again in a minute; FAILED: fix what the message says, then "
            + _deploy_fix(ctx),
        )
    created: datetime = deployment["CreatedDate"]
    later = [
        route
        for route in record.additional_routes.all()
        if route.updated_on > created + _DEPLOYMENT_TIME_RESOLUTION
    ]
    if later:
        names = ", ".join(
            f"{route.route_key} ({route.updated_on:%Y-%m-%d %H:%M:%S})" for route in later
        )
        raise Failed(
            f"stage {record.stage_name} serves deployment {deployment_id} of "
            f"{created:%Y-%m-%d %H:%M:%S}, but routes changed later in Django: {names}",
            "a deployment newer than the latest route change",
            _push_fix(record),
        )
    return (
        f"stage {record.stage_name} serves deployment {deployment_id} (DEPLOYED, "
        f"{created:%Y-%m-%d %H:%M:%S} UTC), newer than every route change in Django"
    )


def _needs_domain(ctx: Context) -> str:
    if not ctx.record.domain_name:
        raise NotChecked("no custom domain in the record: browsers use the stage URL")
    return ctx.record.domain_name


def check_domain(ctx: Context) -> str:
    record = ctx.record
    name = _needs_domain(ctx)
    try:
        config = ctx.domain
    except ClientError as error:
        if not is_not_found(error):
            raise
        raise Failed(
            f"no custom domain {name} in {ctx.region}",
            f"the record's domain_name, a Regional custom domain in {ctx.region}",
            f"python manage.py createCustomDomain --pk {record.pk} under the deploy role (needs "
            "the record's certificate_arn)",
        ) from error
    problems = []
    status = config.get("DomainNameStatus")
    if status != "AVAILABLE":
        problems.append(
            f"status {status} ({config.get('DomainNameStatusMessage') or 'no message'})"
        )
    if config.get("EndpointType") != "REGIONAL":
        problems.append(f"endpoint {config.get('EndpointType')}: WebSocket APIs take Regional only")
    target = config.get("ApiGatewayDomainName", "")
    if record.api_gateway_domain_name and record.api_gateway_domain_name != target:
        problems.append(
            f"AWS's target is {target}, the record says {record.api_gateway_domain_name}"
        )
    if record.certificate_arn and record.certificate_arn != config.get("CertificateArn"):
        problems.append(
            f"uses certificate {config.get('CertificateArn')}, the record names "
            f"{record.certificate_arn}"
        )
    if problems:
        raise Failed(
            f"{name}: " + "; ".join(problems),
            "AVAILABLE, REGIONAL, as the record describes it",
            f"aws apigatewayv2 get-domain-name --domain-name {name} --region {ctx.region} shows "
            "AWS's side: fix the status it reports, or the record to match AWS",
        )
    return f"{name}: AVAILABLE, REGIONAL, target {target}"


def custom_domain_url(domain: str, mapping: dict) -> str:
    """The URL browsers open for a mapping: the domain, plus its path if it has one (AWS:
    "map the production stage of an API to wss://api.example.com/orders", developer guide,
    "Map API stages to a custom domain name for WebSocket APIs")."""
    key = mapping.get("ApiMappingKey") or ""
    return f"wss://{domain}/{key}" if key else f"wss://{domain}"


def check_mapping(ctx: Context) -> str:
    record = ctx.record
    name = _needs_domain(ctx)
    ours = ctx.own_mappings()
    if not ours:
        others = ", ".join(
            f"/{m.get('ApiMappingKey') or ''} → {m['ApiId']}/{m['Stage']}" for m in ctx.mappings
        )
        raise Failed(
            f"{name} maps {others or 'nothing'}",
            f"a mapping of {name} to API {record.api_id} stage {record.stage_name}",
            f"python manage.py createCustomDomain --pk {record.pk}, or aws apigatewayv2 "
            f"create-api-mapping --domain-name {name} --api-id {record.api_id} --stage "
            f"{record.stage_name} --region {ctx.region}",
        )
    urls = ", ".join(custom_domain_url(name, mapping) for mapping in ours)
    return f"{urls} → API {record.api_id} stage {record.stage_name}"


def certificate_covers(pattern: str, host: str) -> bool:
    """Whether a certificate name covers ``host``: equal, or a wildcard for exactly one label."""
    pattern, host = normal_name(pattern), normal_name(host)
    if pattern.startswith("*."):
        return "." in host and host.split(".", 1)[1] == pattern[2:]
    return pattern == host


def check_certificate(ctx: Context) -> str:
    name = _needs_domain(ctx)
    arn = ctx.domain.get("CertificateArn", "")
    try:
        certificate = ctx.acm.describe_certificate(CertificateArn=arn)["Certificate"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        raise Failed(
            f"no certificate {arn} in {ctx.region}",
            f"an ACM certificate in {ctx.region}, the API's region (Regional custom domains)",
            f"request or import a certificate for {name} in {ctx.region}, then aws apigatewayv2 "
            f"update-domain-name --domain-name {name} --domain-name-configurations "
            "CertificateArn=<arn>",
        ) from error
    names = [certificate.get("DomainName", ""), *certificate.get("SubjectAlternativeNames", [])]
    covering = next((pattern for pattern in names if certificate_covers(pattern, name)), None)
    status = certificate.get("Status")
    problems, fixes = [], []
    if status != "ISSUED":
        problems.append(f"status {status}")
        fixes.append(
            "PENDING_VALIDATION: create the DNS records ACM asks for (aws acm "
            f"describe-certificate --certificate-arn {arn} --query "
            "Certificate.DomainValidationOptions); EXPIRED/REVOKED/FAILED: a new certificate"
        )
    if covering is None:
        problems.append(f"covers {', '.join(dict.fromkeys(names))}, not {name}")
        fixes.append(f"a certificate for {name} (or *.{name.split('.', 1)[-1]})")
    if problems:
        raise Failed(
            f"{arn}: " + "; ".join(problems),
            f"ISSUED, covering {name}",
            "; ".join(fixes) + f", then point the custom domain at it (aws apigatewayv2 "
            f"update-domain-name --domain-name {name} …)",
        )
    expiry = certificate.get("NotAfter")
    until = f", valid until {expiry:%Y-%m-%d}" if expiry else ""
    return f"{arn}: ISSUED, covers {name} as {covering}{until}"


def check_dns(ctx: Context) -> str:
    name = _needs_domain(ctx)
    target = normal_name(ctx.domain.get("ApiGatewayDomainName", ""))
    fix = (
        f"an alias record (Route 53) or a CNAME: {name} → {target} (docs/deployment.md step 6); "
        "a change takes the record's TTL to reach every resolver"
    )
    try:
        seen = ctx.resolve(name)
    except OSError as error:
        raise Failed(f"{name} does not resolve ({error})", f"{name} → {target}", fix) from error
    if target in seen.names:
        return f"{name} → CNAME {target}"
    try:
        gateway = ctx.resolve(target)
    except OSError as error:
        raise Failed(
            f"{target} (AWS's target for {name}) does not resolve ({error})",
            f"{target} resolving",
            f"aws apigatewayv2 get-domain-name --domain-name {name}: is the domain still there?",
        ) from error
    shared = sorted(set(seen.addresses) & set(gateway.addresses))
    if shared:
        return f"{name} resolves to {target}'s addresses ({', '.join(shared)}): an alias record"
    raise Failed(
        f"{name} resolves to {', '.join(seen.addresses) or 'no address'} "
        f"(via {' → '.join(seen.names)}), {target} to {', '.join(gateway.addresses)}",
        f"{name} → {target} (CNAME, or an alias giving the same addresses)",
        fix,
    )
