"""The one Management API client (``realtime.management_api``): its SigV4 signatures are
botocore's, and its outcomes are sent, Gone, failed or unavailable after its retries."""

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from hypothesis import given
from hypothesis import strategies as st

from realtime.management_api import FANOUT, ManagementApi, encode_connection_id
from realtime.sigv4 import Signer, payload_hash

AWS_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/@connections/L0SM9cOFvHcC%3D"
NOW = datetime(2026, 11, 24, 12, 30, 5, tzinfo=UTC)


def botocore_authorization(
    credentials: ReadOnlyCredentials, url: str, body: bytes, now: datetime = NOW
) -> str:
    """What botocore's SigV4Auth signs for the same request at the same instant."""
    auth = SigV4Auth(credentials, "execute-api", "eu-west-1")
    request = AWSRequest(method="POST", url=url, data=body)
    request.context["timestamp"] = now.strftime("%Y%m%dT%H%M%SZ")
    request.headers["X-Amz-Date"] = request.context["timestamp"]
    if credentials.token:
        request.headers["X-Amz-Security-Token"] = credentials.token
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    signature = auth.signature(string_to_sign, request)
    signed = auth.signed_headers(auth.headers_to_sign(request))
    scope = auth.scope(request)
    return f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={signed}, Signature={signature}"


@pytest.mark.parametrize("token", [None, "IQoJb3JpZ2luX2VjE-session-token"])
def test_signatures_are_botocores(token):
    """Each post's signature, for any id, second or day (the signer keeps per-day and
    per-second parts), is what botocore signs."""
    credentials = ReadOnlyCredentials(
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token
    )
    body = b'{"type": "broadcast", "text": "h\\u00e9llo"}'
    signer = Signer(credentials, "eu-west-1").for_posts(
        "abc123.execute-api.eu-west-1.amazonaws.com", "/prod/@connections/", payload_hash(body)
    )
    instants = (NOW, NOW + timedelta(seconds=1), NOW + timedelta(days=1), NOW)
    for now in instants:
        for encoded_id in ("L0SM9cOFvHcC%3D", "Ab-_09xyZ", "%2Fweird%20id%7E"):
            headers = signer.headers(encoded_id, now=now)
            url = AWS_URL.rsplit("/", 1)[0] + "/" + encoded_id
            assert headers["Authorization"] == botocore_authorization(credentials, url, body, now)
            assert headers["X-Amz-Date"] == now.strftime("%Y%m%dT%H%M%SZ")
            assert headers.get("X-Amz-Security-Token") == token


class RecordingApi:
    """Answers like the Management API: 200, Gone (410 with its error type) or 500."""

    def __init__(self, gone: set[str], failing: set[str]) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as AWS

            def log_message(self, *_args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorder.requests.append((self.path, dict(self.headers), body))
                connection_id = self.path.rsplit("/", 1)[1]
                status, error_type = 200, None
                if connection_id in gone:
                    status, error_type = 410, "GoneException"
                elif connection_id in failing:
                    status, error_type = 500, "InternalServerErrorException"
                self.send_response(status)
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def recording_api(settings):
    api = RecordingApi(gone={"gone1%3D"}, failing={"fails1%3D"})
    settings.WS_MANAGEMENT_ENDPOINT_URL = api.url
    settings.AWS_GATEWAY_REGION_NAME = "eu-west-1"
    yield api
    api.stop()


def test_outcomes_in_order_with_the_retries_of_a_failure(recording_api):
    with ManagementApi(FANOUT, concurrency=4) as poster:
        outcomes = poster.post_many("abc123", "prod", ["ok1=", "gone1=", "fails1=", "ok2="], "hi")
    assert outcomes == ["sent", "gone", "unavailable", "sent"]
    paths = sorted(path for path, _headers, _body in recording_api.requests)
    # A 500 is retried, then unavailable; Gone and success are final.
    attempts = ["fails1"] * FANOUT.attempts
    assert paths == sorted(
        f"/prod/@connections/{cid}%3D" for cid in ("ok1", "gone1", *attempts, "ok2")
    )
    assert {body for _path, _headers, body in recording_api.requests} == {b"hi"}


def test_each_request_is_signed_for_the_aws_endpoint(recording_api, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setattr("boto3.DEFAULT_SESSION", None)
    with ManagementApi(FANOUT, concurrency=2) as poster:
        assert poster.post_many("abc123", "prod", ["ok1="], '{"x": 1}') == ["sent"]
    (_path, headers, body), *_ = recording_api.requests
    credentials = ReadOnlyCredentials(
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None
    )
    sent_at = datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    aws_url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/@connections/ok1%3D"
    assert headers["Authorization"] == botocore_authorization(credentials, aws_url, body, sent_at)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.from_regex(r"[\w=-]{1,30}"))
def test_connection_ids_are_encoded_as_quote_encodes_them(connection_id):
    assert encode_connection_id(connection_id) == quote(connection_id, safe="")
