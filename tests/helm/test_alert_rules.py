"""The chart's alerts under Prometheus's own tool: `promtool check rules` on what the chart
renders, and `promtool test rules` with a test per alert (tests/helm/alerts/alert_tests.yaml)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helm import support

TESTS = Path(__file__).parent / "alerts" / "alert_tests.yaml"
VALUES = support.values_for(support.CHART / "ci" / "monitoring-values.yaml")


def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is missing: run `make prometheus-tools` (Debian's prometheus)"
    return path


@pytest.fixture(scope="module")
def rules() -> list[dict]:
    rule = support.one(support.render(VALUES), "PrometheusRule")
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


@pytest.fixture(scope="module")
def rule_dir(tmp_path_factory, rules) -> Path:
    """The rendered groups as a rule file, and the tests with each expected alert's
    annotations filled in from its rule (promtool compares them whole)."""
    directory = tmp_path_factory.mktemp("alerts")
    rule = support.one(support.render(VALUES), "PrometheusRule")
    (directory / "rules.yaml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    annotations = {r["alert"]: r["annotations"] for r in rules}
    tests = yaml.safe_load(TESTS.read_text())
    tests["rule_files"] = ["rules.yaml"]
    for test in tests["tests"]:
        for check in test["alert_rule_test"]:
            for expected in check.get("exp_alerts", []):
                expected["exp_annotations"] = annotations[check["alertname"]]
    (directory / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    return directory


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - promtool from PATH, our own arguments
        [promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_checks_the_rendered_rules(rule_dir):
    result = run("check", "rules", "rules.yaml", cwd=rule_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass(rule_dir):
    result = run("test", "rules", "tests.yaml", cwd=rule_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_test_that_fires_it(rules):
    tests = yaml.safe_load(TESTS.read_text())["tests"]
    fired = {
        check["alertname"]
        for test in tests
        for check in test["alert_rule_test"]
        if check.get("exp_alerts")
    }
    assert {r["alert"] for r in rules} == fired


def test_every_alert_has_a_severity_and_a_runbook_section(rules):
    operations = (support.ROOT / "docs" / "operations.md").read_text()
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        anchor = rule["annotations"]["runbook_url"].rsplit("#", 1)[1]
        assert f"### {rule['alert']}\n" in operations and anchor == rule["alert"].lower()
