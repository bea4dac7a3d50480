"""``manage.py gateway_doctor``: the lines, the JSON document and the exit status an operator
gets, against the provisioned moto/fake environment of conftest.py."""

import json
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django_aws_api_gateway_websockets.models import ApiGateway

from doctor.context import Context
from doctor.findings import MARKS, Status
from doctor.runner import CHECKS


@pytest.fixture
def doctor(environment):
    """Run the command with the environment's AWS clients and DNS; (exit status, output)."""

    def run(*args: str) -> tuple[int, str]:
        out = StringIO()
        context = mock.patch.object(
            Context, "for_record", side_effect=lambda record: environment.context(record=record)
        )
        with context:
            try:
                call_command("gateway_doctor", *args, stdout=out)
            except SystemExit as exit_:
                return int(exit_.code), out.getvalue()
        return 0, out.getvalue()

    return run


def test_a_healthy_environment_prints_one_passing_line_per_check_and_exits_0(doctor):
    status, output = doctor()

    assert status == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("gateway_doctor: ApiGateway ")
    assert "Read-only: nothing in AWS or the database changes." in lines[0]
    marks = [line[0] for line in lines if line[:1] in MARKS.values()]
    assert marks == ["✓"] * (len(CHECKS) - 1) + [MARKS[Status.NOT_CHECKED]]
    assert f"PASSED: {len(CHECKS) - 1} passed, 0 failed, 1 not checked" in output
    assert lines[-2].startswith("Next: make smoke-test")
    summary = json.loads(lines[-1])
    assert (summary["event"], summary["command"], summary["ok"]) == (
        "command.summary",
        "gateway_doctor",
        True,
    )
    assert (summary["passed"], summary["failed"], summary["not_checked"]) == (len(CHECKS) - 1, 0, 1)


def test_a_fault_prints_what_was_seen_expected_and_the_fix_and_exits_1(doctor, settings):
    settings.ALLOWED_HOSTS = ["www.example.com"]

    status, output = doctor()

    assert status == 1
    line = next(line for line in output.splitlines() if line.startswith("✗"))
    assert "Integration host in ALLOWED_HOSTS" in line
    assert "· expected: each integration URL's Host exactly in ALLOWED_HOSTS" in line
    assert "· fix: set WS_INTEGRATION_HOST=app.example.com" in line
    assert "FAILED: " in output


def test_json_prints_one_document_then_the_summary_line(doctor, settings):
    settings.SESSION_COOKIE_DOMAIN = None

    status, output = doctor("--json")

    assert status == 1
    report, summary = output.splitlines()
    document = json.loads(report)
    assert json.loads(summary)["ok"] is False
    assert document["passed"] is False
    assert document["gateway"]["stage"] == "production"
    assert document["next_step"].startswith("make smoke-test")
    by_check = {check["check"]: check for check in document["checks"]}
    assert by_check["cookies"]["status"] == "failed"
    assert by_check["cookies"]["fix"].startswith("set SESSION_COOKIE_DOMAIN")
    assert by_check["api"]["status"] == "passed"


def test_only_and_skip_choose_checks_and_groups(doctor):
    _status, only = doctor("--only", "management-api")
    _status, skipped = doctor("--skip", "management-api,aws")

    assert [line for line in only.splitlines() if line[:1] in MARKS.values()] == [
        line for line in only.splitlines() if "Management API post" in line
    ]
    assert "Management API post" not in skipped and "Custom domain" not in skipped
    assert "Session cookie" in skipped


def test_an_unknown_check_is_refused_with_the_names(doctor):
    with pytest.raises(CommandError, match="unknown check dsn: checks are api, routes"):
        doctor("--only", "dsn")


def test_with_several_records_the_pk_is_required(doctor, environment):
    ApiGateway.objects.create(api_name="another", target_base_endpoint="https://b.example.com/ws/")

    with pytest.raises(CommandError, match=r"name the ApiGateway record with --pk: .*another"):
        doctor()
    status, _output = doctor("--pk", str(environment.record.pk))
    assert status == 0
