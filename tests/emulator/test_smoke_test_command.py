"""`manage.py smoke_test` end to end: gunicorn, the emulator, the database, the logs."""

import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from tests.support import gateway as gw

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smoke_user(django_user_model):
    user = django_user_model.objects.create_user(
        "smoke", password="smoke-password-123", is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="send_broadcast"))
    return user


@pytest.fixture
def smoke_env(monkeypatch, settings, django_emulator, django_web, smoke_user):
    emulator = django_emulator()
    # Step 7 posts from this process, through the emulator as the web processes do.
    settings.WS_MANAGEMENT_ENDPOINT_URL = emulator.url
    for name, value in {
        "SMOKE_BASE_URL": django_web.url,
        "SMOKE_WS_URL": f"ws://127.0.0.1:{emulator.port}/{gw.STAGE}",
        "SMOKE_ORIGIN": gw.ORIGIN,
        "SMOKE_USERNAME": "smoke",
        "SMOKE_PASSWORD": "smoke-password-123",
        "SMOKE_LOG_SOURCE": f"file:{django_web.log_path}",
        "SMOKE_DATABASE_STEPS": "true",
        "SMOKE_ENVIRONMENT": "pytest: gunicorn + emulator",
    }.items():
        monkeypatch.setenv(name, value)
    yield


def run_smoke_test() -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("smoke_test", stdout=out)
    except SystemExit as exit_:
        return out.getvalue(), int(exit_.code)
    return out.getvalue(), 0


def test_every_step_passes_against_a_working_deployment(smoke_env):
    output, code = run_smoke_test()
    assert code == 0, output
    assert "Smoke test against: pytest: gunicorn + emulator" in output
    assert sum(line.startswith("✓") for line in output.splitlines()) == 12, output
    census = output[output.index("Header census, from file") :]
    for route in ("connect", "default", "disconnect"):
        assert f"\n  {route}\n" in census, census
    assert census.count("✓ missing: none") == 3, census
    *_, verdict, summary = output.rstrip().splitlines()
    assert verdict.startswith("PASSED: 12 passed, 0 failed, 0 not run")
    assert json.loads(summary) | {"seconds": 0, "timestamp": "", "request_id": ""} == {
        "timestamp": "",
        "level": "info",
        "event": "command.summary",
        "command": "smoke_test",
        "request_id": "",
        "ok": True,
        "passed": 12,
        "failed": 0,
        "not_run": 0,
        "headers_missing": 0,
        "seconds": 0,
    }


def test_a_wrong_password_fails_at_step_1_and_exits_non_zero(smoke_env, monkeypatch):
    monkeypatch.setenv("SMOKE_PASSWORD", "wrong-password")
    output, code = run_smoke_test()
    assert code == 1
    assert "✗  1. open a page that uses WebSockets" in output
    assert "FAILED: 0 passed, 1 failed, 11 not run" in output
    summary = json.loads(output.rstrip().splitlines()[-1])
    assert (summary["ok"], summary["failed"], summary["not_run"]) == (False, 1, 11)


def test_without_database_steps_those_steps_are_reported_not_run(smoke_env, monkeypatch):
    monkeypatch.delenv("SMOKE_DATABASE_STEPS")
    monkeypatch.setenv("SMOKE_LOG_SOURCE", "none")
    output, code = run_smoke_test()
    assert code == 0, output
    assert "PASSED: 7 passed, 0 failed, 5 not run" in output
    assert "Header census, not read: no log source (SMOKE_LOG_SOURCE):" in output


def test_a_required_header_missing_from_the_census_fails_the_run(smoke_env, monkeypatch, tmp_path):
    """A stage whose calls lack a header Django requires: the run fails, naming it, though
    every step it could run passed (here the log is a file with such a census line)."""
    census = {
        "timestamp": "2026-12-02T00:00:00+00:00",
        "event": "ws.headers.census",
        "route": "disconnect",
        "names": ["Connectionid", "Host"],
        "required": ["Connectionid", "Host", "X-Forwarded-For"],
        "missing": ["X-Forwarded-For"],
    }
    log = tmp_path / "stage.jsonl"
    log.write_text(json.dumps(census) + "\n")
    monkeypatch.setenv("SMOKE_LOG_SOURCE", f"file:{log}")
    output, code = run_smoke_test()
    assert code == 1, output
    assert "    ✗ missing: X-Forwarded-For" in output
    assert "; 1 required headers missing (header census)" in output
    assert json.loads(output.rstrip().splitlines()[-1])["headers_missing"] == 1
