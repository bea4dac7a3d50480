"""The Management API's answers where AWS is strict: SigV4 signatures, a client that does not
read (429), and the account's throttle (docs/emulator-fidelity.md has each rule's source)."""

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.emulator.harness import ACCESS_KEY_ID, SECRET_ACCESS_KEY, open_client, wait_until

NO_RETRIES = {"retries": {"total_max_attempts": 1}, "read_timeout": 10}


@pytest.fixture
def emulator(start_emulator, stand_in):
    return start_emulator(EMULATOR_TARGET_URL=f"{stand_in.url}/ws/", EMULATOR_API_ID="abc123defg")


def connection_id(stand_in) -> str:
    (connect,) = wait_until(lambda: stand_in.stand_in.calls_to("connect"), "the $connect call")
    return connect.headers["Connectionid"]


def unsigned_post(emulator, connection: str) -> urllib.error.HTTPError | int:
    url = f"{emulator.url}/{emulator.stage}/@connections/{connection.replace('=', '%3D')}"
    request = urllib.request.Request(url, data=b"unsigned", method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused


def test_an_unsigned_post_is_forbidden_and_not_delivered(emulator, stand_in):
    with open_client(emulator.ws_url()) as client:
        refused = unsigned_post(emulator, connection_id(stand_in))
        assert isinstance(refused, urllib.error.HTTPError), f"answered {refused}"
        assert (refused.code, refused.headers["x-amzn-ErrorType"]) == (403, "ForbiddenException")
        assert b"Missing Authentication Token" in refused.read()
        emulator.management_client().post_to_connection(
            ConnectionId=connection_id(stand_in), Data=b"signed"
        )
        assert client.recv(timeout=15) == "signed"


def test_a_post_signed_with_the_wrong_secret_is_forbidden(emulator, stand_in):
    api = emulator.management_client(secret="not-the-secret", **NO_RETRIES)
    with (
        open_client(emulator.ws_url()),
        pytest.raises(api.exceptions.ForbiddenException) as refused,
    ):
        api.post_to_connection(ConnectionId=connection_id(stand_in), Data=b"x")
    assert "signature we calculated does not match" in str(refused.value)


def test_a_request_signed_for_aws_and_sent_here_is_accepted(emulator, stand_in):
    """What Django does: sign for https://{api}.execute-api.{region}.amazonaws.com, then send
    to the emulator (realtime/management_endpoint.py). The id's "=" is signed as %253D."""
    api = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"https://abc123defg.execute-api.us-east-1.amazonaws.com/{emulator.stage}",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )
    aws_prefix = "https://abc123defg.execute-api.us-east-1.amazonaws.com"

    def send_to_emulator(request, **_) -> None:
        request.url = request.url.replace(aws_prefix, emulator.url)

    api.meta.events.register("before-send.apigatewaymanagementapi", send_to_emulator)
    with open_client(emulator.ws_url()) as client:
        api.post_to_connection(ConnectionId=connection_id(stand_in), Data=b"via AWS's URL")
        assert client.recv(timeout=15) == "via AWS's URL"
    # Signed for another API's host: refused.
    api.meta.events.unregister("before-send.apigatewaymanagementapi", send_to_emulator)
    other = aws_prefix.replace("abc123defg", "other")
    api = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"{other}/{emulator.stage}",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(**NO_RETRIES),
    )
    api.meta.events.register(
        "before-send.apigatewaymanagementapi",
        lambda request, **_: setattr(request, "url", request.url.replace(other, emulator.url)),
    )
    with pytest.raises(api.exceptions.ForbiddenException):
        api.get_connection(ConnectionId="AnyConnectionId=")


def test_verification_off_accepts_unsigned_posts(start_emulator, stand_in):
    emulator = start_emulator(
        EMULATOR_TARGET_URL=f"{stand_in.url}/ws/", EMULATOR_VERIFY_SIGV4="false"
    )
    with open_client(emulator.ws_url()) as client:
        assert unsigned_post(emulator, connection_id(stand_in)) == 200
        assert client.recv(timeout=15) == "unsigned"


def test_a_client_that_does_not_read_gets_429_not_a_hanging_post(emulator, stand_in):
    api = emulator.management_client(**NO_RETRIES)
    data = b"z" * (128 * 1024)
    # The client reads nothing: its socket's buffers fill, then the emulator's.
    with open_client(emulator.ws_url(), max_queue=1) as _client:
        target = connection_id(stand_in)
        delivered = 0
        for _ in range(1000):
            try:
                api.post_to_connection(ConnectionId=target, Data=data)
                delivered += 1
            except ClientError as error:
                assert error.response["Error"]["Code"] == "LimitExceededException"
                assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
                break
        else:
            raise AssertionError("1000 posts of 128 KB to a client that reads nothing: no 429")
    assert delivered > 0


def test_the_account_throttle_answers_429_over_its_bucket(start_emulator, stand_in):
    emulator = start_emulator(
        EMULATOR_TARGET_URL=f"{stand_in.url}/ws/",
        EMULATOR_THROTTLE_RATE="0.01",
        EMULATOR_THROTTLE_BURST="2",
    )
    api = emulator.management_client(**NO_RETRIES)
    for _ in range(2):
        with pytest.raises(api.exceptions.GoneException):
            api.get_connection(ConnectionId="NoSuchConnection=")
    with pytest.raises(api.exceptions.LimitExceededException):
        api.get_connection(ConnectionId="NoSuchConnection=")


def test_a_signature_older_than_5_minutes_is_refused(emulator):
    url = f"{emulator.url}/{emulator.stage}/@connections/NoSuchConnection%3D"
    request = AWSRequest("GET", url)
    signed_at = datetime.now(UTC) - timedelta(minutes=6)
    with patch("botocore.auth.get_current_datetime", return_value=signed_at):
        credentials = Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        SigV4Auth(credentials, "execute-api", "us-east-1").add_auth(request)
    call = urllib.request.Request(url, headers=dict(request.headers))  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(call, timeout=10)  # noqa: S310
    assert (refused.value.code, refused.value.headers["x-amzn-ErrorType"]) == (
        403,
        "ForbiddenException",
    )
    assert b"Signature expired" in refused.value.read()


def test_a_post_while_connect_is_still_running_is_gone(emulator, stand_in):
    """AWS: "A message was posted to the WebSocket API before the connection was
    established" is a 410 (Knowledge Center, 410-gone-api-gateway)."""
    stand_in.stand_in.delay_for["connect"] = 3
    api = emulator.management_client(**NO_RETRIES)
    opening = ThreadPoolExecutor(max_workers=1)
    client = opening.submit(open_client, emulator.ws_url())
    try:
        with pytest.raises(api.exceptions.GoneException):
            api.post_to_connection(ConnectionId=connection_id(stand_in), Data=b"too early")
        client.result(timeout=30).close()
    finally:
        opening.shutdown()
