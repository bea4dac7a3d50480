"""The local Prometheus (`make up`) after the smoke test: both web replicas' $connect counts
are in it, non-zero, and its UI shows them, the $connect rate and the send failures (the
screenshot in test-artifacts/prometheus.png)."""

import json
import os
import time
import urllib.parse
import urllib.request

import pytest

from tests.e2e.conftest import ARTIFACTS, answering_url

# Over the last 30 minutes, so a replica stopped by another test still shows what it served.
CONNECTS = (
    "max by (pod) (max_over_time("
    'wsgateway_callback_duration_seconds_count{route="connect", outcome="accepted"}[30m]))'
)
CONNECT_RATE = (
    'sum by (pod, outcome) (rate(wsgateway_callback_duration_seconds_count{route="connect"}[1m]))'
)
SEND_FAILURES = (
    "sum by (pod) (max_over_time("
    'wsgateway_management_api_posts_total{outcome=~"failed|throttled"}[30m]))'
    " or sum by (pod) (0 * max_over_time(wsgateway_management_api_posts_total[30m]))"
)


@pytest.fixture(scope="module")
def prometheus_url() -> str:
    return answering_url(
        "E2E_PROMETHEUS_URL",
        "http://127.0.0.1:9090",
        "/-/ready",
        "No Prometheus answers at {url} ({error}): start the stack with `make up`.",
    )


def query(url: str, expr: str) -> dict[str, float]:
    """pod -> value of an instant query."""
    params = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{url}/api/v1/query?{params}", timeout=10) as response:  # noqa: S310
        data = json.load(response)["data"]["result"]
    return {r["metric"].get("pod", ""): float(r["value"][1]) for r in data}


def test_prometheus_shows_connects_from_both_replicas(page, prometheus_url):
    replicas = os.environ.get("E2E_REPLICAS", "web1,web2").split(",")
    # Prometheus scrapes every 5 s: the smoke test's last connects may still be on their way.
    deadline = time.monotonic() + 30
    counts = query(prometheus_url, CONNECTS)
    while not all(counts.get(pod, 0) > 0 for pod in replicas) and time.monotonic() < deadline:
        time.sleep(2)
        counts = query(prometheus_url, CONNECTS)
    assert all(counts.get(pod, 0) > 0 for pod in replicas), (
        f"$connect counts per replica: {counts}; run `make smoke-test` first"
    )

    panels = {
        "g0.expr": CONNECTS,
        "g0.tab": "1",
        "g1.expr": CONNECT_RATE,
        "g1.tab": "0",
        "g1.range_input": "15m",
        "g2.expr": SEND_FAILURES,
        "g2.tab": "1",
    }
    page.set_viewport_size({"width": 1400, "height": 1200})
    page.goto(f"{prometheus_url}/graph?{urllib.parse.urlencode(panels)}")
    for pod in replicas:
        page.get_by_text(f'{{pod="{pod}"}}').first.wait_for(timeout=15_000)
    page.wait_for_timeout(1000)  # the graph's lines are drawn after the tables
    page.screenshot(path=str(ARTIFACTS / "prometheus.png"), full_page=True)
