"""SigV4 verification of Management API calls, as API Gateway's IAM authorization does: "These
requests use IAM authorization, so you must sign them with Signature Version 4 (SigV4)"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html).

The signature is recomputed with botocore's own signer over the request as the client signed
it: the path exactly as received (SigV4 encodes it once more, so ``%40connections`` is signed
as ``%2540connections``) and the host the client signed. Django signs for AWS's host
``{api_id}.execute-api.{region}.amazonaws.com`` and then sends the request here
(realtime/management_endpoint.py), so that host is accepted besides the one the request
reached. A refusal is 403 ``ForbiddenException``, the only 403 in botocore's
``apigatewaymanagementapi`` model, with AWS's messages.
"""

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "execute-api"
# AWS refuses a signature more than 5 minutes away from its clock ("Signature expired").
MAX_CLOCK_SKEW = timedelta(minutes=5)
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/\s]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/"
    r"(?P<service>[^/\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;_.-]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})"
)
MISSING = "Missing Authentication Token"
BAD_KEY = "The security token included in the request is invalid."
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


class SignatureRefused(Exception):
    """The request is not signed by the configured credentials; the message is AWS's."""


@dataclass(frozen=True)
class SignatureCheck:
    access_key_id: str
    secret_access_key: str
    api_id: str

    def verify(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> None:
        """Raise SignatureRefused unless the request carries a valid signature.
        ``raw_path`` is the request target as received: path and query, still encoded."""
        authorization = headers.get("Authorization")
        if not authorization:
            raise SignatureRefused(MISSING)
        match = _AUTHORIZATION.fullmatch(authorization.strip())
        if match is None:
            raise SignatureRefused(f"Invalid Authorization header: {authorization[:40]}…")
        if match["key"] != self.access_key_id:
            raise SignatureRefused(BAD_KEY)
        if match["service"] != SERVICE:
            raise SignatureRefused(f"Credential should be scoped to correct service: '{SERVICE}'.")
        amz_date = headers.get("X-Amz-Date", "")
        _check_date(amz_date, match["date"])
        hosts = {
            headers.get("Host", ""),
            f"{self.api_id}.{SERVICE}.{match['region']}.amazonaws.com",
        }
        signed = match["signed"].split(";")
        for host in hosts:
            expected = self._signature(
                method, host, raw_path, headers, signed, body, match["region"], amz_date
            )
            if hmac.compare_digest(expected, match["signature"]):
                return
        raise SignatureRefused(MISMATCH)

    def _signature(
        self,
        method: str,
        host: str,
        raw_path: str,
        headers: Mapping[str, str],
        signed: list[str],
        body: bytes,
        region: str,
        amz_date: str,
    ) -> str:
        request = AWSRequest(
            method=method,
            # https: botocore then hashes the body, as every SDK does for this service.
            url=f"https://{host}{raw_path}",
            data=body,
            headers={name: host if name == "host" else headers.get(name, "") for name in signed},
        )
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(self.access_key_id, self.secret_access_key), SERVICE, region)
        canonical_request = signer.canonical_request(request)
        return signer.signature(signer.string_to_sign(request, canonical_request), request)


def _check_date(amz_date: str, scope_date: str) -> None:
    try:
        signed_at = datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureRefused(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        ) from None
    if amz_date[:8] != scope_date:
        raise SignatureRefused(MISMATCH)
    now = datetime.now(UTC)
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        raise SignatureRefused(
            f"Signature expired: {amz_date} is now earlier than "
            f"{(now - MAX_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)}"
        )
