"""The load test (``python -m loadtest``) headless for a few seconds against the real app
under gunicorn behind the emulator: its users sign in, fetch tokens, connect and ping, and
the exit code is the verdict. `make bench-smoke` runs it against the compose stack too."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import gateway as gw

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def loadtest_user(django_user_model):
    return django_user_model.objects.create_user("loadtest", password="loadtest-password-123")


@pytest.fixture
def run_loadtest(django_emulator, django_web, loadtest_user, tmp_path):
    emulator = django_emulator()

    def run(password: str, seconds: int) -> tuple[int, str]:
        env = {
            **os.environ,
            "LOADTEST_SITE_URL": django_web.url,
            "LOADTEST_WS_URL": f"ws://127.0.0.1:{emulator.port}/{gw.STAGE}",
            # The Host Django sees on $connect is the emulator's integration host.
            "LOADTEST_ORIGIN": gw.ORIGIN,
            "LOADTEST_USERNAME": "loadtest",
            "LOADTEST_PASSWORD": password,
            "LOADTEST_USERS": "2",
            "LOADTEST_SPAWN_RATE": "2",
            # Sign-in hashes the password (PBKDF2): seconds on a busy 2-core machine.
            "LOADTEST_DURATION": f"{seconds}s",
            "LOADTEST_PING_INTERVAL": "0.2",
            "LOADTEST_REPORT_DIR": str(tmp_path / "report"),
        }
        done = subprocess.run(
            [sys.executable, "-m", "loadtest", "--only-summary"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr

    return run


def test_users_sign_in_connect_and_get_their_pongs(run_loadtest, tmp_path):
    code, output = run_loadtest("loadtest-password-123", seconds=10)
    assert code == 0, output
    assert "✓ PASSED" in output, output
    assert "    2 users, " in output and ", 0 failures" in output, output
    assert "  connect    2 (failed 0)" in output, output
    assert (tmp_path / "report" / "report.html").is_file()
    assert (tmp_path / "report" / "locust_stats.csv").is_file()


def test_a_wrong_password_fails_the_run_and_is_never_printed(run_loadtest):
    code, output = run_loadtest("wrong-password-456", seconds=4)
    assert code == 1, output
    assert "✗ FAILED: no ping got its pong" in output, output
    assert "wrong-password-456" not in output
