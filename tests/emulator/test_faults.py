"""The Management API's fault modes (gateway_emulator.faults), switched while it runs: boto3's
real client sees AWS's answers under stress, and a hung call resumes when the fault ends."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from tests.emulator.harness import open_client, wait_until


@pytest.fixture
def emulator(start_emulator, stand_in):
    return start_emulator(EMULATOR_TARGET_URL=f"{stand_in.url}/ws/")


def set_fault(emulator, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - the emulator's http URL
        f"{emulator.url}/_emulator/faults/management-api", data=body, method="PUT"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_throttle_error_and_hang_as_aws_answers_them(emulator, stand_in):
    api = emulator.management_client()
    with open_client(emulator.ws_url()) as client:
        connection_id = stand_in.stand_in.calls[0].headers["Connectionid"]

        assert set_fault(emulator, b'{"mode": "throttle", "retry_after": 7}') == (
            200,
            {"mode": "throttle", "retry_after": 7},
        )
        with pytest.raises(api.exceptions.LimitExceededException) as throttled:
            api.post_to_connection(ConnectionId=connection_id, Data=b"x")
        headers = throttled.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["retry-after"] == "7"

        set_fault(emulator, b'{"mode": "error"}')
        with pytest.raises(api.exceptions.ClientError) as failed:
            api.post_to_connection(ConnectionId=connection_id, Data=b"x")
        assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500

        set_fault(emulator, b'{"mode": "hang"}')
        answered = threading.Event()

        def post_while_hung() -> None:
            api.post_to_connection(ConnectionId=connection_id, Data=b"after the hang")
            answered.set()

        poster = threading.Thread(target=post_while_hung)
        poster.start()
        assert not answered.wait(timeout=1.0)  # no answer while the fault lasts
        set_fault(emulator, b'{"mode": "none"}')
        poster.join(timeout=15)
        assert answered.is_set()
        assert client.recv(timeout=15) == "after the hang"


@pytest.mark.parametrize(
    "body", [b'{"mode": "explode"}', b'{"mode": "throttle", "retry_after": -1}', b"[1]", b"{"]
)
def test_a_bad_fault_setting_is_refused_and_changes_nothing(emulator, body):
    status, answer = set_fault(emulator, body)
    assert status == 400 and answer["error"]
    with urllib.request.urlopen(  # noqa: S310
        f"{emulator.url}/_emulator/faults/management-api", timeout=5
    ) as response:
        assert json.loads(response.read()) == {"mode": "none", "retry_after": 1}
    wait_until(lambda: emulator.health()["status"] == "ok", "a healthy emulator")
