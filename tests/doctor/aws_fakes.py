"""API Gateway v2 and ACM for the doctor's tests: moto where it implements the calls, and a
faithful fake where it does not.

moto 5.2 implements create/get of APIs, routes, integrations, stages, domain names and API
mappings, and ACM's import/request/describe_certificate. It does not implement deployments
(``create_deployment`` answers 404 and ``get_stage`` carries no ``DeploymentId``), and its
``create_domain_name``/``get_domain_name`` answer without ``ApiGatewayDomainName`` (the name a
DNS record must point at). ``ApiGatewayWithDeployments`` wraps moto's client and adds exactly
those, and checks each answer it makes against botocore's model of the real API's output, so
the fake cannot answer anything AWS could not. DNS is a fake resolver: a table of names.
"""

import secrets
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError
from botocore.validate import validate_parameters
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from doctor.context import Resolution


def _not_found(operation: str, message: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "NotFoundException", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 404},
        },
        operation,
    )


class ApiGatewayWithDeployments:
    """moto's apigatewayv2 client, plus deployments and the domain name's target."""

    def __init__(self, client) -> None:
        self._client = client
        self.region = client.meta.region_name
        # (api id, deployment id) -> GetDeployment's answer
        self.deployments: dict[tuple[str, str], dict] = {}
        # (api id, stage) -> the deployment id the stage serves
        self.stage_deployments: dict[tuple[str, str], str] = {}
        # domain name -> what moto leaves out of its configuration
        self.domain_extras: dict[str, dict] = {}

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def _checked(self, operation: str, answer: dict) -> dict:
        shape = self._client.meta.service_model.operation_model(operation).output_shape
        validate_parameters(answer, shape)
        return answer

    def create_deployment(self, ApiId: str, StageName: str = "", Description: str = "") -> dict:
        if StageName:
            self._client.get_stage(ApiId=ApiId, StageName=StageName)  # NotFound as AWS
        deployment_id = secrets.token_hex(3)
        answer = self._checked(
            "CreateDeployment",
            {
                "AutoDeployed": False,
                "CreatedDate": datetime.now(UTC),
                "DeploymentId": deployment_id,
                "DeploymentStatus": "DEPLOYED",
                "Description": Description,
            },
        )
        self.deployments[(ApiId, deployment_id)] = answer
        if StageName:
            self.stage_deployments[(ApiId, StageName)] = deployment_id
        return answer

    def get_deployment(self, ApiId: str, DeploymentId: str) -> dict:
        answer = self.deployments.get((ApiId, DeploymentId))
        if answer is None:
            raise _not_found("GetDeployment", f"Invalid Deployment identifier {DeploymentId}")
        return self._checked("GetDeployment", answer)

    def get_stage(self, ApiId: str, StageName: str) -> dict:
        answer = {k: v for k, v in self._client.get_stage(ApiId=ApiId, StageName=StageName).items()}
        answer.pop("ResponseMetadata", None)
        deployment_id = self.stage_deployments.get((ApiId, StageName))
        if deployment_id:
            answer["DeploymentId"] = deployment_id
        return self._checked("GetStage", answer)

    def set_deployment(self, api_id: str, stage: str, **fields) -> None:
        """Change the answer about the stage's deployment (a FAILED one, an older one)."""
        deployment_id = self.stage_deployments[(api_id, stage)]
        self.deployments[(api_id, deployment_id)].update(fields)

    def create_domain_name(self, DomainName: str, DomainNameConfigurations: list[dict]) -> dict:
        self._client.create_domain_name(
            DomainName=DomainName, DomainNameConfigurations=DomainNameConfigurations
        )
        target = f"d-{secrets.token_hex(5)}.execute-api.{self.region}.amazonaws.com"
        self.domain_extras[DomainName] = {
            "ApiGatewayDomainName": target,
            "DomainNameStatus": "AVAILABLE",
            "EndpointType": "REGIONAL",
        }
        return self.get_domain_name(DomainName=DomainName)

    def get_domain_name(self, DomainName: str) -> dict:
        answer = dict(self._client.get_domain_name(DomainName=DomainName))
        answer.pop("ResponseMetadata", None)
        extras = self.domain_extras.get(DomainName, {})
        answer["DomainNameConfigurations"] = [
            {**config, **extras} for config in answer["DomainNameConfigurations"]
        ]
        return self._checked("GetDomainName", answer)


def self_signed_certificate(*names: str) -> tuple[bytes, bytes]:
    """A certificate for ``names`` (the first is its subject) and its key, PEM, to import
    into ACM, which reads the names and dates from it as it does from a real one."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .sign(key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
    )


class FakeResolver:
    """DNS as a table: name -> (CNAME chain, addresses). A missing name does not resolve."""

    def __init__(self) -> None:
        self.table: dict[str, Resolution] = {}

    def add(self, name: str, addresses: tuple[str, ...], via: tuple[str, ...] = ()) -> None:
        self.table[name] = Resolution((name, *via), addresses)

    def __call__(self, host: str) -> Resolution:
        try:
            return self.table[host]
        except KeyError:
            raise OSError(f"[Errno -2] Name or service not known: {host!r}") from None
