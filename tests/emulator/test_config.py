"""Configuration from the environment: defaults, parsing, and a clear exit on mistakes."""

import json
import os
import subprocess
import sys

import pytest
from yarl import URL

from gateway_emulator.config import ConfigError, EmulatorConfig, Upstream, load_config
from tests.support.live_server import APP_DIR

# Verification is on by default and then needs the credentials Django signs with.
CREDENTIALS = {"EMULATOR_AWS_ACCESS_KEY_ID": "key-id", "EMULATOR_AWS_SECRET_ACCESS_KEY": "key"}


def test_defaults_match_the_local_stack():
    config = load_config(CREDENTIALS)
    assert config == EmulatorConfig(access_key_id="key-id", secret_access_key="key")
    assert config.verify_sigv4 and config.integration_timeout == 29.0
    assert config.throttle_rate is None
    assert (config.port, config.stage, config.api_id) == (8001, "local", "local")
    assert config.target_url == URL("http://localhost:8000/ws/")
    assert (config.idle_timeout, config.max_duration) == (600.0, 7200.0)
    assert config.gateway_secret is None and not config.drop_disconnects and not config.routes


def test_every_variable_is_read():
    config = load_config(
        {
            "EMULATOR_HOST": "127.0.0.1",
            "EMULATOR_PORT": "9001",
            "EMULATOR_TARGET_URL": "https://app.example.com/ws/",
            "EMULATOR_UPSTREAM": "web:8000",
            "EMULATOR_API_ID": "a1b2c3d4e5",
            "EMULATOR_STAGE": "prod",
            "EMULATOR_GATEWAY_SECRET": "s3cret",
            "EMULATOR_ROUTES": '{"chat": "http://chat:9000/ws/chat"}',
            "EMULATOR_IDLE_TIMEOUT_SECONDS": "2.5",
            "EMULATOR_MAX_DURATION_SECONDS": "60",
            "EMULATOR_DROP_DISCONNECTS": "yes",
            "EMULATOR_INTEGRATION_TIMEOUT_SECONDS": "1.5",
            "EMULATOR_VERIFY_SIGV4": "false",
            "EMULATOR_THROTTLE_RATE": "10000",
            "EMULATOR_THROTTLE_BURST": "5000",
            "LOG_FORMAT": "console",
            "LOG_LEVEL": "debug",
        }
    )
    assert config.target_url == URL("https://app.example.com/ws/")
    assert config.upstreams == (Upstream("web", 8000),)
    assert config.routes == {"chat": URL("http://chat:9000/ws/chat")}
    assert (config.idle_timeout, config.max_duration, config.drop_disconnects) == (2.5, 60.0, True)
    assert (config.log_format, config.log_level, config.gateway_secret) == (
        "console",
        "DEBUG",
        "s3cret",
    )
    assert (config.integration_timeout, config.verify_sigv4) == (1.5, False)
    assert (config.throttle_rate, config.throttle_burst) == (10000.0, 5000.0)


def test_verification_without_credentials_is_a_mistake_that_says_what_to_set():
    with pytest.raises(ConfigError) as error:
        load_config({})
    assert "EMULATOR_AWS_ACCESS_KEY_ID" in str(error.value)
    assert "EMULATOR_VERIFY_SIGV4=false" in str(error.value)
    assert load_config({"EMULATOR_VERIFY_SIGV4": "false"}).access_key_id is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EMULATOR_PORT", "eighty"),
        ("EMULATOR_PORT", "70000"),
        ("EMULATOR_TARGET_URL", "ftp://example.com/ws/"),
        ("EMULATOR_TARGET_URL", "http://localhost:8000/ws"),
        ("EMULATOR_UPSTREAM", "web"),
        ("EMULATOR_STAGE", "has space"),
        ("EMULATOR_ROUTES", "{not json"),
        ("EMULATOR_ROUTES", '{"$default": "http://x/ws/default"}'),
        ("EMULATOR_ROUTES", '["http://x/ws/chat"]'),
        ("EMULATOR_IDLE_TIMEOUT_SECONDS", "-1"),
        ("EMULATOR_MAX_DURATION_SECONDS", "forever"),
        ("EMULATOR_DROP_DISCONNECTS", "maybe"),
        ("EMULATOR_INTEGRATION_TIMEOUT_SECONDS", "0"),
        ("EMULATOR_VERIFY_SIGV4", "perhaps"),
        ("EMULATOR_AWS_ACCESS_KEY_ID", "has space"),
        ("EMULATOR_THROTTLE_RATE", "-5"),
        ("EMULATOR_THROTTLE_BURST", "lots"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_invalid_values_are_named(name, value):
    with pytest.raises(ConfigError, match=name):
        load_config({**CREDENTIALS, name: value})


def test_all_mistakes_are_reported_at_once_without_echoing_the_secret():
    with pytest.raises(ConfigError) as error:
        load_config(
            {
                "EMULATOR_PORT": "x",
                "EMULATOR_GATEWAY_SECRET": "bad\nsecret-value",
                "EMULATOR_AWS_SECRET_ACCESS_KEY": "bad secret-key",
            }
        )
    assert "EMULATOR_PORT" in str(error.value) and "EMULATOR_GATEWAY_SECRET" in str(error.value)
    assert "secret-value" not in str(error.value) and "secret-key" not in str(error.value)


def test_bad_configuration_exits_2_with_a_message_not_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "gateway_emulator"],
        cwd=APP_DIR,
        env={**os.environ, "EMULATOR_ROUTES": "{oops", "EMULATOR_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "EMULATOR_ROUTES" in result.stderr and "EMULATOR_PORT" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


# Every module of the emulator, and the two of observability it logs through.
_IMPORT_EVERY_EMULATOR_MODULE = """
import importlib, json, pkgutil, sys
import gateway_emulator
for module in pkgutil.walk_packages(gateway_emulator.__path__, "gateway_emulator."):
    importlib.import_module(module.name)
import observability.logging_config, observability.redaction
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_the_emulator_and_the_logging_it_uses_import_no_django_and_no_equipment():
    """The emulator is a product of its own, in the image (docs/emulator.md): like API Gateway
    it reaches Django only over HTTP, so neither it nor observability's logging_config and
    redaction may import Django; and it must not lean on the test and benchmark equipment,
    which the image does not contain."""
    result = subprocess.run(  # noqa: S603 - our interpreter, a fixed program
        [sys.executable, "-c", _IMPORT_EVERY_EMULATOR_MODULE],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    imported = set(json.loads(result.stdout))
    assert "gateway_emulator" in imported and "observability" in imported
    assert not imported & {"django", "environ", "bench", "devtools", "tests"}
