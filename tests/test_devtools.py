"""What the tools beside the app share (devtools/): how they read their variables and the step
line they print, seen through the drills' entry point as a user meets them."""

import os
import subprocess
import sys

import pytest

from devtools.console import say
from devtools.environment import BadVariable, env_bool, env_float, env_int, env_list, env_str
from tests.support.live_server import APP_DIR

REPO_DIR = APP_DIR.parent


def test_unset_variables_give_the_defaults(monkeypatch):
    for name in ("T_TEXT", "T_INT", "T_FLOAT", "T_FLAG", "T_LIST"):
        monkeypatch.delenv(name, raising=False)
    assert env_str("T_TEXT", "demo") == "demo"
    assert (env_int("T_INT", 50), env_float("T_FLOAT", 0.25)) == (50, 0.25)
    assert env_bool("T_FLAG") is False and env_bool("T_FLAG", True) is True
    assert env_list("T_LIST", ["a", "b"]) == ["a", "b"]


def test_set_variables_are_parsed(monkeypatch):
    monkeypatch.setenv("T_INT", "200")
    monkeypatch.setenv("T_FLOAT", "2.5")
    monkeypatch.setenv("T_LIST", "postgres_down, ,emulator_restart,")
    assert (env_int("T_INT", 0), env_float("T_FLOAT", 0.0)) == (200, 2.5)
    assert env_list("T_LIST", []) == ["postgres_down", "emulator_restart"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(word, True) for word in ("1", "TRUE", "yes", "on")]
    + [(word, False) for word in ("", "0", "false", "No", "off")],
)
def test_flags_read_the_emulators_words_for_true_and_false(monkeypatch, value, expected):
    monkeypatch.setenv("T_FLAG", value)
    assert env_bool("T_FLAG") is expected


@pytest.mark.parametrize(
    ("read", "value", "message"),
    [
        (lambda: env_int("T_VAR", 1), "many", "T_VAR='many' must be a whole number"),
        (lambda: env_float("T_VAR", 1.0), "2s", "T_VAR='2s' must be a number"),
        (lambda: env_bool("T_VAR"), "sometimes", "T_VAR='sometimes' must be true or false"),
    ],
)
def test_a_wrong_value_names_its_variable(monkeypatch, read, value, message):
    monkeypatch.setenv("T_VAR", value)
    with pytest.raises(BadVariable) as error:
        read()
    assert str(error.value).startswith(message)


def test_a_required_variable_that_is_missing_is_named(monkeypatch):
    monkeypatch.delenv("T_REQUIRED", raising=False)
    with pytest.raises(BadVariable, match="T_REQUIRED must be set"):
        env_str("T_REQUIRED")


def test_a_step_line_is_the_makefiles_style(capsys):
    say("starting the emulator")
    say("FAILED: it exited", sys.stderr)
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "==> starting the emulator\n",
        "==> FAILED: it exited\n",
    )


@pytest.mark.parametrize(
    ("drill", "variables", "message"),
    [
        ("drill.chaos", {"CHAOS_CLIENTS": "many"}, "CHAOS_CLIENTS='many' must be a whole number"),
        ("drill.chaos", {"CHAOS_FAULTS": "meteor"}, "CHAOS_FAULTS: unknown ['meteor']"),
        ("drill.bluegreen", {"DRILL_PHASE_SECONDS": "10s"}, "DRILL_PHASE_SECONDS='10s' must be"),
    ],
)
def test_a_drill_with_a_wrong_variable_stops_before_starting_anything(drill, variables, message):
    """Exit 2 and the variable named, before any container: no traceback, no stack to remove."""
    result = subprocess.run(  # noqa: S603 - our interpreter, a fixed module
        [sys.executable, "-m", drill],
        cwd=REPO_DIR,
        env={**os.environ, "DRILL_PROJECT": "never-started", **variables},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"==> FAILED: {message}" in result.stderr
    assert "Traceback" not in result.stderr and "removing project" not in result.stdout
