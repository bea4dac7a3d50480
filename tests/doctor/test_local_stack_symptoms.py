"""The symptoms docs/troubleshooting.md describes that the local stack can produce, each made
here and named by the doctor or by the log event an operator filters for: a wrong
ALLOWED_HOSTS, a wrong gateway secret, an emulator serving another stage (that one is in
test_management_api_check.py). And the doctor on a stack like `make up`'s: the emulator, its
stage, Django's development settings: every check that applies passes."""

from io import StringIO

import pytest
from django.core.management import call_command
from django_aws_api_gateway_websockets.models import ApiGateway

from doctor.context import Context
from doctor.findings import MARKS, Status
from doctor.runner import CHECKS, run_checks
from tests.emulator.harness import EmulatorProcess
from tests.support import gateway as gw


def _events(caplog) -> list[dict]:
    return [record.msg for record in caplog.records if isinstance(record.msg, dict)]


def _context(record) -> Context:
    return Context(record=record, region="us-east-1", apigateway=None, acm=None, emulated=True)


def test_a_wrong_allowed_hosts_refuses_connect_and_the_doctor_names_it(
    api_gateway, channels, browser, caller, settings, caplog
):
    settings.ALLOWED_HOSTS = ["localhost", "web"]

    response = caller.connect(
        gw.new_connection_id(), browser.cookie, {"ws_token": browser.token(), "channel": "lobby"}
    )
    finding = run_checks(_context(api_gateway), [c for c in CHECKS if c.id == "integration-host"])[
        0
    ]

    assert response.status_code == 400
    assert {"event": "ws.connect.rejected", "reason": "host_not_allowed"}.items() <= next(
        event for event in _events(caplog) if event["event"] == "ws.connect.rejected"
    ).items()
    assert finding.status is Status.FAILED
    assert finding.saw.startswith("'localhost:8000' is not in ALLOWED_HOSTS ['localhost', 'web']")
    assert "host_not_allowed" in finding.saw


def test_a_wrong_gateway_secret_is_named_by_its_log_event(api_gateway, caller, caplog):
    response = caller.message(gw.new_connection_id(), '{"action": "ping"}', secret="n" * 40)

    assert response.status_code in (400, 403)
    assert "ws.gateway_secret.invalid" in [event["event"] for event in _events(caplog)]


@pytest.fixture
def local_emulator(tmp_path):
    process = EmulatorProcess({"EMULATOR_STAGE": "local"}, tmp_path / "emulator.log").start()
    yield process
    process.stop()


def test_on_a_stack_like_make_up_every_check_that_applies_passes(db, settings, local_emulator):
    # What docker-compose.yml sets, and the row seed_local_stack writes.
    settings.WS_MANAGEMENT_ENDPOINT_URL = local_emulator.url
    settings.WS_PUBLIC_URL = "ws://localhost:8001/local"
    ApiGateway.objects.create(
        api_name="local-local",
        api_id="local",
        stage_name="local",
        target_base_endpoint="http://localhost:8000/ws/",
    )
    out = StringIO()

    call_command("gateway_doctor", stdout=out)

    output = out.getvalue()
    assert f"against the emulator at {local_emulator.url}" in output
    assert "✗" not in output
    assert f"PASSED: 6 passed, 0 failed, {len(CHECKS) - 6} not checked" in output
    assert (
        f"{MARKS[Status.NOT_CHECKED]} API in the region" in output
        and "make doctor ENV=… checks AWS" in output
    )
