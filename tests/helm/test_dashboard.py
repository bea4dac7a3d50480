"""The Grafana dashboard: the committed JSON is what the generator makes, it has a panel for
every metric the app exports, and the chart ships it to Grafana's sidecar."""

import importlib.util
import json
import re

from prometheus_client.metrics import MetricWrapperBase

from observability import metrics
from tests.helm import support

DASHBOARD = support.CHART / "dashboards" / "wsgateway.json"


def generator():
    spec = importlib.util.spec_from_file_location(
        "generate_dashboard", support.CHART / "generate_dashboard.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exported_metrics() -> set[str]:
    found = {m._name for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)}
    found |= {m._name for m in metrics.REFUSAL_COUNTERS.values()}
    return found


def expressions() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in board["panels"] for t in p.get("targets", [])]


def test_the_committed_json_is_the_generators():
    assert DASHBOARD.read_text() == generator().render(), "run `make dashboard`"


def test_every_metric_has_a_panel():
    exprs = "\n".join(expressions())
    missing = [
        name
        for name in sorted(exported_metrics())
        if not re.search(rf"\b{name}(_total|_bucket)?\{{", exprs)
    ]
    assert not missing
    assert len(exported_metrics()) >= 20


def test_every_panel_is_titled_described_and_scoped_to_the_release():
    board = json.loads(DASHBOARD.read_text())
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel.get("description"), panel
        for target in panel["targets"]:
            assert 'job=~"$job"' in target["expr"], target["expr"]


def test_the_chart_ships_it_to_grafanas_sidecar():
    values = support.values_for(support.CHART / "ci" / "monitoring-values.yaml")
    config_map = support.one(support.render(values), "ConfigMap", "dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["wsgateway.json"]) == json.loads(DASHBOARD.read_text())
