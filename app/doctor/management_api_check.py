"""Can this identity post to the Management API? One signed ``POST
/{stage}/@connections/{id}`` for a connection that cannot exist, as the app posts: to AWS's
endpoint for the record's API, stage and AWS_GATEWAY_REGION_NAME, with boto3's default
credential chain (IRSA, EKS Pod Identity), signed for AWS's host and sent to the emulator
instead when WS_MANAGEMENT_ENDPOINT_URL is set (``realtime.management_endpoint``).

API Gateway answers a post to a connection that does not exist with 410 GoneException, once the
signature and the identity's ``execute-api:ManageConnections`` permission have been accepted
(botocore's ``apigatewaymanagementapi`` model; AWS knowledge center, "410 Gone"). Anything
else names what is wrong: ForbiddenException (the API, stage or region is not the API's, or an
execute-api VPC endpoint with private DNS intercepts the call), AccessDeniedException (the
identity may not post), or no answer at all.
"""

import ipaddress
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from django_aws_api_gateway_websockets.models import get_region_name

from doctor.context import Context
from doctor.findings import Failed
from realtime.management_api import endpoint_url
from realtime.management_endpoint import management_url

# AWS's connection ids are 16 characters of [A-Za-z0-9_=-]; this one has 12, so no client
# can ever hold it, and a frame posted to it reaches nobody.
PROBE_CONNECTION_ID = "doctorProbe="
PROBE_FRAME = b'{"type": "doctor.probe"}'
# The ranges a VPC's CIDR blocks come from: RFC 1918, and 100.64.0.0/10 (RFC 6598), which AWS
# also allows for VPCs.
_VPC_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
_CREDENTIAL_ERRORS = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
}


def _to_configured_endpoint(request, **_kwargs) -> None:
    """After signing for AWS's host: send where the app sends (the emulator, locally)."""
    request.url = management_url(request.url)


def management_client(api_id: str, stage: str):
    """A one-attempt client for the API's stage, with the app's credentials and endpoint."""
    client = boto3.session.Session().client(
        "apigatewaymanagementapi",
        region_name=get_region_name(),
        endpoint_url=endpoint_url(api_id, stage),
        config=Config(
            connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 1}
        ),
    )
    # First, so no other before-send handler answers for AWS's URL before it is rewritten.
    client.meta.events.register_first(
        "before-send.apigatewaymanagementapi", _to_configured_endpoint
    )
    return client


def _private_addresses(ctx: Context, host: str) -> list[str]:
    """The addresses ``host`` resolves to here that only a VPC uses: an execute-api VPC
    endpoint's (API Gateway's public endpoints have public addresses)."""
    try:
        addresses = ctx.resolve(host).addresses
    except OSError:
        return []
    return [
        address
        for address in addresses
        if any(ipaddress.ip_address(address) in network for network in _VPC_NETWORKS)
    ]


def _forbidden(ctx: Context, aws_host: str, answer: str) -> Failed:
    record = ctx.record
    private = [] if ctx.emulated else _private_addresses(ctx, aws_host)
    if private:
        return Failed(
            f"{answer}, and {aws_host} resolves to {', '.join(private)}, a private address",
            "410 GoneException from API Gateway's public endpoint",
            "an execute-api interface VPC endpoint with private DNS answers for every "
            f"*.execute-api.{ctx.region}.amazonaws.com in this VPC and serves private APIs only "
            "(AWS knowledge center, api-gateway-vpc-connections): turn its private DNS off (aws "
            "ec2 modify-vpc-endpoint --vpc-endpoint-id <id> --no-private-dns-enabled) or keep "
            "it out of the cluster's VPC",
        )
    if ctx.emulated:
        return Failed(
            answer,
            f"410 GoneException: the emulator serving stage {record.stage_name}",
            f"the emulator serves another stage: set EMULATOR_STAGE={record.stage_name} (or "
            "the record's stage_name and WS_PUBLIC_URL to the emulator's stage)",
        )
    return Failed(
        answer,
        "410 GoneException",
        f"API {record.api_id}, stage {record.stage_name} and region {ctx.region} "
        "(AWS_GATEWAY_REGION_NAME) must be where the API lives: see the API and stage checks",
    )


def check_management_api(ctx: Context) -> str:
    record = ctx.record
    if not record.api_id:
        raise Failed(
            f"ApiGateway {record.pk} has no api_id",
            "the API's id, to post to its stage",
            "provision the API first (see the API check)",
        )
    aws_url = f"{endpoint_url(record.api_id, record.stage_name)}/@connections/{PROBE_CONNECTION_ID}"
    target = management_url(aws_url)
    where = "the emulator" if ctx.emulated else "API Gateway"
    try:
        management_client(record.api_id, record.stage_name).post_to_connection(
            ConnectionId=PROBE_CONNECTION_ID, Data=PROBE_FRAME
        )
    except NoCredentialsError as error:
        raise Failed(
            "no AWS credentials in this process",
            "the runtime role's credentials (IRSA or EKS Pod Identity)",
            "set serviceAccounts.runtime.roleArn (or associate the role with EKS Pod Identity) "
            "and restart the pods: kubectl -n <namespace> get sa <release>-runtime -o yaml",
        ) from error
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message") or "no message"
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        answer = f"POST {target} answered {status} {code} ({message})"
        if code == "GoneException":
            return (
                f"POST {target} answered 410 GoneException: {where} accepted this identity's "
                f"signed post to stage {record.stage_name}"
            )
        if code == "ForbiddenException":
            raise _forbidden(ctx, urlsplit(aws_url).hostname or "", answer) from error
        if code == "AccessDeniedException":
            raise Failed(
                answer,
                "410 GoneException",
                "give the role this process runs as (AWS's message names it) "
                "execute-api:ManageConnections: k8s/iam/runtime-policy.json with API_ID="
                f"{record.api_id} STAGE={record.stage_name} REGION={ctx.region}",
            ) from error
        if code in _CREDENTIAL_ERRORS:
            raise Failed(
                answer,
                "410 GoneException",
                "the credentials are not valid for this account: check the role's trust policy "
                "(k8s/iam/trust-*.json), the ServiceAccount's role, and the clock",
            ) from error
        raise Failed(
            answer,
            "410 GoneException",
            "docs/troubleshooting.md, 'Messages reach Django but never the browser'",
        ) from error
    except BotoCoreError as error:
        raise Failed(
            f"POST {target} got no answer ({type(error).__name__}: {error})",
            f"an answer from {where}",
            "WS_MANAGEMENT_ENDPOINT_URL must name the running emulator (make up)"
            if ctx.emulated
            else "pods reach 443 (networkPolicy.httpsCidrs) and DNS",
        ) from error
    raise Failed(
        f"POST {target} answered 200 for a connection that cannot exist",
        "410 GoneException",
        "something other than API Gateway answers there: WS_MANAGEMENT_ENDPOINT_URL must be "
        "unset in production; check proxies (HTTPS_PROXY)",
    )
