"""The Management API check: a signed post for a connection that cannot exist must answer 410
GoneException. moto's post_to_connection accepts any id and never answers Gone, so these run
against the faithful fake of tests/support (AWS's answers: 410 Gone, 403 ForbiddenException,
AccessDeniedException) and the real emulator, with the app's own endpoint redirect."""

import os
from unittest.mock import patch

import boto3
import pytest

from doctor.findings import Status
from doctor.management_api_check import PROBE_CONNECTION_ID
from tests.doctor.conftest import REGION
from tests.emulator.harness import EmulatorProcess
from tests.support.live_server import free_port


def test_gone_for_a_connection_that_cannot_exist_passes(environment):
    finding = environment.check("management-api")

    assert finding.status is Status.PASSED
    assert "answered 410 GoneException: API Gateway accepted this identity's signed post" in (
        finding.saw
    )
    assert environment.management_api.attempts[PROBE_CONNECTION_ID] == 1
    assert environment.management_api.received(PROBE_CONNECTION_ID) == []


def test_forbidden_names_the_api_stage_and_region(environment):
    environment.management_api.refuse_with = (403, "ForbiddenException", "Forbidden")

    finding = environment.check("management-api")

    assert finding.status is Status.FAILED
    assert finding.saw.endswith("answered 403 ForbiddenException (Forbidden)")
    assert f"stage production and region {REGION} (AWS_GATEWAY_REGION_NAME)" in finding.fix


def test_forbidden_from_a_private_address_names_the_vpc_endpoint(environment):
    environment.management_api.refuse_with = (403, "ForbiddenException", "Forbidden")
    host = f"{environment.record.api_id}.execute-api.{REGION}.amazonaws.com"
    environment.resolver.add(host, ("10.0.3.7",))

    finding = environment.check("management-api")

    assert finding.status is Status.FAILED
    assert f"{host} resolves to 10.0.3.7, a private address" in finding.saw
    assert "--no-private-dns-enabled" in finding.fix


def test_access_denied_names_the_runtime_policy(environment):
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/wsgateway-prod-deploy/botocore-session "
        "is not authorized to perform: execute-api:ManageConnections"
    )
    environment.management_api.refuse_with = (403, "AccessDeniedException", message)

    finding = environment.check("management-api")

    assert finding.status is Status.FAILED
    assert "wsgateway-prod-deploy" in finding.saw
    assert "k8s/iam/runtime-policy.json" in finding.fix
    assert f"API_ID={environment.record.api_id} STAGE=production" in finding.fix


def test_no_credentials_names_the_service_account_role(environment, tmp_path):
    # patch.dict, undone before the fixtures' teardown: monkeypatch, undone after mock_aws
    # had restored the environment, put moto's fake keys back for every later test.
    none = str(tmp_path / "none")
    with patch.dict(
        os.environ,
        {"AWS_SHARED_CREDENTIALS_FILE": none, "AWS_CONFIG_FILE": none},
        AWS_EC2_METADATA_DISABLED="true",
    ):
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        finding = environment.check("management-api")

    assert finding.status is Status.FAILED
    assert finding.saw == "no AWS credentials in this process"
    assert "serviceAccounts.runtime.roleArn" in finding.fix


def test_no_answer_is_named(environment, settings):
    settings.WS_MANAGEMENT_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"

    finding = environment.check("management-api")

    assert finding.status is Status.FAILED
    assert "got no answer (EndpointConnectionError" in finding.saw


def test_an_answer_for_a_connection_that_cannot_exist_is_not_api_gateway(environment):
    environment.management_api.open_connections.add(PROBE_CONNECTION_ID)

    finding = environment.check("management-api")

    assert finding.status is Status.FAILED
    assert finding.saw.endswith("answered 200 for a connection that cannot exist")


@pytest.fixture
def emulator(tmp_path, environment):
    started = []

    def start(stage: str) -> EmulatorProcess:
        # The emulator verifies SigV4 for its own API's host, the one the app signs for, with
        # the keys the app signs with (moto's, inside mock_aws).
        keys = boto3.session.Session().get_credentials()
        env = {
            "EMULATOR_STAGE": stage,
            "EMULATOR_API_ID": environment.record.api_id,
            "EMULATOR_AWS_ACCESS_KEY_ID": keys.access_key,
            "EMULATOR_AWS_SECRET_ACCESS_KEY": keys.secret_key,
        }
        process = EmulatorProcess(env, tmp_path / f"emulator-{stage}.log")
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


def test_the_emulator_answers_gone_for_its_own_stage(environment, settings, emulator):
    settings.WS_MANAGEMENT_ENDPOINT_URL = emulator("production").url

    finding = environment.check("management-api", emulated=True)

    assert finding.status is Status.PASSED
    assert "the emulator accepted this identity's signed post to stage production" in finding.saw


def test_an_emulator_serving_another_stage_is_named(environment, settings, emulator):
    settings.WS_MANAGEMENT_ENDPOINT_URL = emulator("staging").url

    finding = environment.check("management-api", emulated=True)

    assert finding.status is Status.FAILED
    assert "answered 403 ForbiddenException" in finding.saw
    assert finding.fix.startswith(
        "the emulator serves another stage: set EMULATOR_STAGE=production"
    )
