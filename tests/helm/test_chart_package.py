"""The chart as a package: `make chart-package` writes a .tgz whose metadata passes the lint of
what Artifact Hub reads (scripts/chart.py), the versions are written in helm/Chart.yaml only
(everything else is checked against it), and helm/CHANGELOG.md is the chart's
artifacthub.io/changes."""

import importlib.util
import re
import tomllib

import pytest
import yaml

from tests.helm import support
from tests.helm.test_make_targets import make


def chart_tool():
    spec = importlib.util.spec_from_file_location("chart", support.ROOT / "scripts" / "chart.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    destination = tmp_path_factory.mktemp("dist")
    result = make("chart-package", f"CHART_DIST={destination}", "-o", ".venv/.installed")
    assert result.returncode == 0, result.stdout + result.stderr
    version = chart_tool().chart_metadata()["version"]
    archive = destination / f"wsgateway-{version}.tgz"
    assert f"==> packaged {archive}" in result.stdout
    return archive


def test_the_packaged_chart_passes_the_artifact_hub_lint(packaged):
    tool = chart_tool()
    metadata = tool.chart_metadata(packaged)
    assert tool.lint(metadata) == []
    for field in ("home", "sources", "maintainers", "icon", "keywords"):
        assert metadata[field], field
    for annotation in ("license", "images", "changes"):
        assert f"artifacthub.io/{annotation}" in metadata["annotations"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"home": ""}, "home is missing"),
        ({"icon": "logo.png"}, "is not an https URL"),
        ({"version": "1.0"}, "is not SemVer"),
        ({"maintainers": [{"name": "x"}]}, "maintainer needs a name and an email"),
        ({"annotations": {}}, "artifacthub.io/license"),
        ({"appVersion": "9.9.9"}, "is not at appVersion 9.9.9"),
    ],
)
def test_the_lint_names_what_is_wrong(change, problem):
    tool = chart_tool()
    metadata = {**tool.chart_metadata(), **change}
    assert any(problem in line for line in tool.lint(metadata)), tool.lint(metadata)


def test_the_lint_reads_the_changes_annotation():
    tool = chart_tool()
    metadata = tool.chart_metadata()
    bad = yaml.safe_dump([{"kind": "improved", "description": "x"}])
    metadata["annotations"] = {**metadata["annotations"], "artifacthub.io/changes": bad}
    assert any("needs a kind and a description" in line for line in tool.lint(metadata))


def test_versions_are_written_in_chart_yaml_only():
    metadata = chart_tool().chart_metadata()
    pyproject = tomllib.loads((support.ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == metadata["appVersion"]
    workflow = (support.ROOT / ".github" / "workflows" / "release.yaml").read_text()
    assert "scripts/chart.py app-version" in workflow and "scripts/chart.py version" in workflow


def test_the_changelog_is_the_changes_annotation():
    metadata = chart_tool().chart_metadata()
    text = (support.CHART / "CHANGELOG.md").read_text()
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    newest = sections[0]
    assert newest.splitlines()[0].strip() == metadata["version"]
    entries = [
        dict(zip(("kind", "description"), line[2:].split(": ", 1), strict=True))
        for line in newest.splitlines()
        if line.startswith("- ")
    ]
    assert entries == yaml.safe_load(metadata["annotations"]["artifacthub.io/changes"])


def test_chart_push_runs_helm_push_to_the_registry(tmp_path, packaged):
    log = tmp_path / "helm-args"
    helm = tmp_path / "helm"
    helm.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    helm.chmod(0o755)
    dist = packaged.parent
    registry = "oci://123456789012.dkr.ecr.eu-west-1.amazonaws.com/charts"
    args = ("chart-push", f"CHART_DIST={dist}", f"HELM={helm}", "-o", ".venv/.installed")
    result = make(*args, f"REGISTRY={registry}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert log.read_text().strip() == f"push {packaged} {registry}"
    assert f"==> {helm} push {packaged} {registry}" in result.stdout
    missing = make(*args)
    assert missing.returncode != 0 and "REGISTRY is required" in missing.stderr
