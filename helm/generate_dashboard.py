"""Generate the Grafana dashboard (helm/dashboards/wsgateway.json) with grafana-foundation-sdk.

    python helm/generate_dashboard.py          # rewrite the JSON (make dashboard)
    python helm/generate_dashboard.py --check  # exit 1 when the JSON is out of date

A panel per monitoring signal (docs/operations.md names each beside its metric and alert);
tests/helm/test_dashboard.py checks that every metric the app exports has one. The chart
ships the JSON as a ConfigMap for Grafana's sidecar (metrics.dashboard).
"""

import argparse
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

OUTPUT = Path(__file__).resolve().parent / "dashboards" / "wsgateway.json"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
SELECTOR = 'namespace=~"$namespace", job=~"$job"'


def query(expr: str, legend: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr.replace("SEL", SELECTOR)).legend_format(legend)


def rate(metric: str, by: str) -> str:
    return f"sum by ({by}) (rate({metric}{{SEL}}[$__rate_interval]))"


def quantiles(metric: str, by: str) -> list[prometheus.Dataquery]:
    return [
        query(
            f"histogram_quantile({q}, sum by ({by}, le) "
            f"(rate({metric}_bucket{{SEL}}[$__rate_interval])))",
            f"p{round(q * 100)} {{{{{by.split(', ')[0]}}}}}",
        )
        for q in (0.5, 0.99)
    ]


def graph(title: str, description: str, unit: str, *targets: prometheus.Dataquery):
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .height(8)
        .span(8)
    )
    for target in targets:
        panel = panel.with_target(target)
    return panel


def rows() -> list[tuple[str, list]]:
    connects = "wsgateway_callback_duration_seconds_count"
    return [
        (
            "Callbacks",
            [
                graph(
                    "$connect by outcome",
                    "API Gateway's $connect calls per second: accepted, refused (4xx), "
                    "busy (503) or error.",
                    "reqps",
                    query(
                        f'sum by (outcome) (rate({connects}{{SEL, route="connect"}}'
                        "[$__rate_interval]))",
                        "{{outcome}}",
                    ),
                ),
                graph(
                    "Callbacks by route and outcome",
                    "$connect, $default and $disconnect per second, by outcome.",
                    "reqps",
                    query(rate(connects, "route, outcome"), "{{route}} {{outcome}}"),
                ),
                graph(
                    "Callback latency",
                    "p50 and p99 per route; API Gateway gives up after 29 s.",
                    "s",
                    *quantiles("wsgateway_callback_duration_seconds", "route"),
                ),
            ],
        ),
        (
            "Refusals",
            [
                graph(
                    "Rejected $connect",
                    "ws.connect.rejected by reason (host, origin, headers, reused id).",
                    "reqps",
                    query(rate("wsgateway_connect_rejected_total", "reason"), "{{reason}}"),
                ),
                graph(
                    "Rate limits",
                    "Refused for rate: $connect per address or user, connections per "
                    "user, messages per connection, broadcasts per user.",
                    "reqps",
                    query(rate("wsgateway_connect_rate_limited_total", "reason"), "connect"),
                    query(
                        rate("wsgateway_connect_connection_limit_total", "reason"),
                        "connection cap",
                    ),
                    query(rate("wsgateway_message_rate_limited_total", "job"), "messages"),
                    query(rate("wsgateway_broadcast_rate_limited_total", "reason"), "broadcasts"),
                ),
                graph(
                    "Token validation failures",
                    "ws.token.invalid by reason: token_invalid, no_session.",
                    "reqps",
                    query(rate("wsgateway_token_invalid_total", "reason"), "{{reason}}"),
                ),
                graph(
                    "Permission denials",
                    "ws.permission.denied by reason: channel_rule, no_broadcast_permission.",
                    "reqps",
                    query(rate("wsgateway_permission_denied_total", "reason"), "{{reason}}"),
                ),
                graph(
                    "Invalid channel names",
                    "ws.channel.invalid: names outside [A-Za-z0-9_-]{1,128}.",
                    "reqps",
                    query(rate("wsgateway_channel_invalid_total", "reason"), "{{reason}}"),
                ),
                graph(
                    "Other refusals and forged callbacks",
                    "ws.request.rejected by reason, and callbacks without the gateway secret.",
                    "reqps",
                    query(rate("wsgateway_request_rejected_total", "reason"), "{{reason}}"),
                    query(rate("wsgateway_gateway_secret_invalid_total", "job"), "gateway secret"),
                ),
            ],
        ),
        (
            "Management API",
            [
                graph(
                    "Posts by outcome",
                    "Management API posts per second: sent, gone (410), throttled, failed; "
                    "and every 429 answer, retried or not (the account's request quota reached: "
                    "lower BROADCAST_FRAMES_PER_SECOND or raise the quota).",
                    "reqps",
                    query(rate("wsgateway_management_api_posts_total", "outcome"), "{{outcome}}"),
                    query(rate("wsgateway_management_api_throttled_total", "job"), "429 answers"),
                ),
                graph(
                    "Send failures by reason",
                    "ws.send.failed: throttled, forbidden, access_denied, server_error, "
                    "network, timeout, credentials.",
                    "reqps",
                    query(rate("wsgateway_send_failed_total", "reason"), "{{reason}}"),
                ),
                graph(
                    "Post latency",
                    "p50 and p99 of one post, retries included, by outcome.",
                    "s",
                    *quantiles("wsgateway_management_api_post_duration_seconds", "outcome"),
                ),
            ],
        ),
        (
            "Broadcasts",
            [
                graph(
                    "Fan-out duration",
                    "p50 and p99 of a broadcast's fan-out in the web tier.",
                    "s",
                    *quantiles("wsgateway_broadcast_fanout_duration_seconds", "job"),
                ),
                graph(
                    "Fan-out recipients",
                    "p50 and p99 of the connections one fan-out posted to.",
                    "short",
                    *quantiles("wsgateway_broadcast_fanout_recipients", "job"),
                ),
                graph(
                    "Broadcasts finished and waiting",
                    "Finished per second (delivered, failed), and the rows pending, sending "
                    "or failed in the database.",
                    "short",
                    query(rate("wsgateway_broadcasts_finished_total", "outcome"), "{{outcome}}/s"),
                    query("max by (status) (wsgateway_broadcasts{SEL})", "{{status}} rows"),
                ),
            ],
        ),
        (
            "State",
            [
                graph(
                    "Sessions",
                    "Connected sessions, and stale ones (connected past API Gateway's 2 h; "
                    "the sweeper clears them every 5 minutes).",
                    "short",
                    query("max by (state) (wsgateway_sessions{SEL})", "{{state}}"),
                ),
                graph(
                    "Database pool",
                    "Each pod's pool connections: open, idle, and requests waiting.",
                    "short",
                    query(
                        "sum by (pod, state) (wsgateway_db_pool_connections{SEL})",
                        "{{pod}} {{state}}",
                    ),
                ),
                stat.Panel()
                .title("Pending migrations")
                .description("Migrations the database lacks; above 0, readiness fails.")
                .datasource(DATASOURCE)
                .height(8)
                .span(4)
                .with_target(query("max(wsgateway_migrations_pending{SEL})", "pending")),
                stat.Panel()
                .title("State counted ago")
                .description("Seconds since the web tier last counted the state gauges.")
                .datasource(DATASOURCE)
                .unit("s")
                .height(8)
                .span(4)
                .with_target(
                    query("time() - max(wsgateway_state_refreshed_timestamp_seconds{SEL})", "age")
                ),
            ],
        ),
        (
            "Release",
            [
                table.Panel()
                .title("Build info")
                .description("Each pod's version, color and WebSocket protocol version.")
                .datasource(DATASOURCE)
                .height(6)
                .span(24)
                .with_target(
                    query(
                        "max by (pod, version, color, protocol_version) "
                        "(wsgateway_build_info{SEL})",
                        "{{pod}}",
                    )
                    .instant()
                    .format("table")
                ),
            ],
        ),
    ]


def variable(name: str, label: str, query_text: str) -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query_text)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .include_all(True)
        .all_value(".*")
    )


def build() -> dict:
    board = (
        dashboard.Dashboard("wsgateway: real-time over API Gateway")
        .uid("wsgateway")
        .description("Every monitoring signal of docs/operations.md, from wsgateway_* metrics.")
        .tags(["wsgateway", "websockets"])
        .time("now-1h", "now")
        .refresh("30s")
        .with_variable(
            dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus")
        )
        .with_variable(
            variable("namespace", "Namespace", "label_values(wsgateway_build_info, namespace)")
        )
        .with_variable(
            variable(
                "job", "Job", 'label_values(wsgateway_build_info{namespace=~"$namespace"}, job)'
            )
        )
    )
    for title, panels in rows():
        board = board.with_row(dashboard.Row(title))
        for panel in panels:
            board = board.with_panel(panel)
    return json.loads(JSONEncoder(sort_keys=True, indent=2).encode(board.build()))


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the JSON is outdated")
    text = render()
    if parser.parse_args().check:
        if OUTPUT.read_text() != text:
            print(f"==> {OUTPUT} is out of date: run make dashboard", file=sys.stderr)
            return 1
        print(f"==> {OUTPUT} is up to date")
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    print(f"==> Wrote {OUTPUT} ({len(build()['panels'])} panels and rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
