"""The production profile: `check --deploy` is clean, and missing settings stop start-up."""

import os
import subprocess
import sys

import pytest

from tests.support.live_server import APP_DIR
from tests.support.production_env import PRODUCTION_ENV


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "manage.py", *args],
        cwd=APP_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    "missing",
    ["SECRET_KEY", "WS_GATEWAY_SECRET", "AWS_GATEWAY_REGION_NAME", "DATABASE_URL", "ALLOWED_HOSTS"],
)
def test_production_refuses_to_start_without_a_required_variable(missing):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set when DJANGO_ENV=production" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_ENV", "staging", "DJANGO_ENV must be 'development' or 'production'"),
        ("TRUSTED_PROXY_HOPS", "0", "TRUSTED_PROXY_HOPS must be 1 or more"),
        ("WS_MANAGEMENT_ENDPOINT_URL", "http://emulator:8001", "must not be set in production"),
        ("DATABASE_URL", "mysql://app@db/app", "DATABASE_URL must point at PostgreSQL"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be 'json' or 'console'"),
    ],
)
def test_bad_values_give_a_clear_error(variable, value, message):
    result = manage("check", env={**PRODUCTION_ENV, variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_profile_secures_cookies_and_transport():
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_DOMAIN, s.ALLOWED_HOSTS, "
        "s.WEBSOCKETS['gateway_secret'] != [])"
    )
    result = manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "False True True True 31536000 .example.com ['app.example.com'] True"
    )
