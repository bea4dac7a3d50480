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


UNSAFE_VALUES = {
    "SESSION_COOKIE_SECURE": ("false", "SESSION_COOKIE_SECURE is off"),
    "CSRF_COOKIE_SECURE": ("false", "CSRF_COOKIE_SECURE is off"),
    "SECURE_SSL_REDIRECT": ("false", "SECURE_SSL_REDIRECT is off"),
    "SECURE_HSTS_SECONDS": ("0", "SECURE_HSTS_SECONDS is 0"),
    "ALLOWED_HOSTS": ("*", "ALLOWED_HOSTS contains '*'"),
    "WS_GATEWAY_SECRET": ("short-secret", "WS_GATEWAY_SECRET entry 1 is not 32+ characters"),
    "DEBUG": ("true", "DEBUG is on"),
}
UNSAFE_KEYS = {
    "short": "tooShort-0123456789",
    "few distinct characters": "ab" * 40,
    "the compose stack's": "local-stack-only-secret-key-do-not-use-anywhere-else-0123456789",
    "settings' default": "development-only-insecure-key-do-not-use-in-production-0123456789",
    "startproject's": "django-insecure-" + "q8Zt5Lw2Xn7Kv1Mb4Hc9Jd3Fs6Gp0Ra" * 2,
}


@pytest.mark.parametrize("variable", sorted(UNSAFE_VALUES))
def test_production_refuses_an_unsafe_value(variable):
    value, message = UNSAFE_VALUES[variable]
    result = manage("check", env={**PRODUCTION_ENV, variable: value})
    assert result.returncode != 0
    assert "Refusing to start with DJANGO_ENV=production" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize("kind", sorted(UNSAFE_KEYS))
def test_production_refuses_a_weak_or_published_secret_key(kind):
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": UNSAFE_KEYS[kind]})
    assert result.returncode != 0
    assert "SECRET_KEY is" in result.stderr
    assert UNSAFE_KEYS[kind] not in result.stderr  # the key itself is never printed


def test_production_lists_every_unsafe_value_in_one_message():
    env = {**PRODUCTION_ENV, **{name: value for name, (value, _) in UNSAFE_VALUES.items()}}
    result = manage("check", env=env)
    assert result.returncode != 0
    for _value, message in UNSAFE_VALUES.values():
        assert message in result.stderr
    assert "short-secret" not in result.stderr


def test_debug_is_off_by_default_in_development_too():
    env = {"DJANGO_ENV": "development"}
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_our_gateway_secret_rule_is_the_packages():
    from django_aws_api_gateway_websockets.models import GATEWAY_SECRET_PATTERN

    from config.production_checks import GATEWAY_SECRET_PATTERN as OURS

    for secret in [
        "a" * 31,
        "a" * 32,
        "A-Za-z0-9._~+/=" * 3,
        "x" * 40 + "\n",
        "é" * 40,
        "a b" * 20,
    ]:
        assert bool(OURS.fullmatch(secret)) == bool(GATEWAY_SECRET_PATTERN.fullmatch(secret))


@pytest.mark.django_db(transaction=True)
def test_gunicorn_refuses_to_start_with_a_short_gateway_secret(tmp_path):
    """The web tier itself stops, not only `migrate` (where the package's E001 runs)."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV},
        **PRODUCTION_ENV,
        "WS_GATEWAY_SECRET": "short-secret",
        "PORT": "0",
        "OPS_PORT": "0",
        "GUNICORN_WORKERS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi:application"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "WS_GATEWAY_SECRET entry 1 is not 32+ characters" in result.stdout + result.stderr
