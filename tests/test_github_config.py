"""The CI a fork keeps (.github/workflows) and its Renovate configuration run on GitHub, not
here: each is validated against the schema GitHub's and Renovate's files follow, as vendored
by check-jsonschema (requirements/dev.lock), so a typo fails here before a push."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yaml"))


def check_jsonschema(schema: str, *paths: Path) -> subprocess.CompletedProcess:
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.fail("check-jsonschema is not installed: `make install` (requirements/dev.lock)")
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_workflows_follow_githubs_schema():
    assert {p.name for p in WORKFLOWS} >= {"ci.yaml", "release.yaml"}
    result = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_renovate_configuration_follows_renovates_schema():
    result = check_jsonschema("vendor.renovate", ROOT / "renovate.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validation_catches_a_misspelt_key(tmp_path):
    """So the tests above would notice a broken workflow (their value lies in this)."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(WORKFLOWS[0].read_text().replace("runs-on:", "runs_on:", 1))
    assert check_jsonschema("vendor.github-workflows", broken).returncode != 0


def test_the_release_workflow_signs_in_to_aws_with_oidc_only():
    text = (ROOT / ".github" / "workflows" / "release.yaml").read_text()
    assert "id-token: write" in text and "role-to-assume" in text
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
