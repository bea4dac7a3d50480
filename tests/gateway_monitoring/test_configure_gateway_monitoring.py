"""configure_gateway_monitoring against moto (API Gateway's account, CloudWatch Logs, CloudWatch)
and the UpdateStage of aws_fakes: what a first run sets, that a second run writes nothing and
says so, --check, and each failure an operator can meet, with the line they read."""

import json
import re
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from gateway_monitoring.plan import ACCESS_LOG_FIELDS, AlarmKind
from tests.gateway_monitoring.conftest import REGION, STAGE

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "arn:aws:sns:eu-west-1:123456789012:wsgateway-alerts"
THRESHOLDS = {
    "client-errors": 100,
    "execution-errors": 0,
    "integration-errors": 50,
    "integration-latency-p99-ms": 5000,
    "connect-count-below": 1,
    "message-count-below": 1,
    "app-errors": 0,
}


def _alarm_args(thresholds: dict[str, float]) -> tuple[str, ...]:
    return tuple(arg for key, value in thresholds.items() for arg in ("--alarm", f"{key}={value}"))


ALARMS = _alarm_args(THRESHOLDS)
APP_LOGS = ("--app-log-group", "/aws/containerinsights/prod-eu/application")
VALUES = (*ALARMS, "--alarm-topic-arn", TOPIC, *APP_LOGS)


def _summary(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def _alarms(gateway) -> dict[str, dict]:
    answer = gateway.cloudwatch.describe_alarms(AlarmNamePrefix=f"apigateway-{gateway.api_id}-")
    return {alarm["MetricName"]: alarm for alarm in answer["MetricAlarms"]}


def test_a_first_run_configures_the_bare_stage_its_log_group_and_alarms(gateway):
    output, status = gateway.run(*VALUES, "--throttling-burst-limit", "200")

    assert status == 0, output
    stage = gateway.stage()
    routes = stage["DefaultRouteSettings"]
    assert routes["DetailedMetricsEnabled"] is True
    assert routes["ThrottlingBurstLimit"] == 200
    assert routes["ThrottlingRateLimit"] == 1000.0
    log_group = f"/apigateway/{gateway.api_id}/{STAGE}/access"
    access = stage["AccessLogSettings"]
    assert access["DestinationArn"] == (f"arn:aws:logs:{REGION}:123456789012:log-group:{log_group}")
    fields = json.loads(access["Format"])
    for name in ("requestId", "connectionId", "eventType", "routeKey", "status"):
        assert fields[name] == f"$context.{name}"
    assert fields["integrationError"] == "$context.integration.error"
    (group,) = gateway.logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"]
    assert group["retentionInDays"] == 30

    alarms = _alarms(gateway)
    assert set(alarms) == {
        "ClientError", "ExecutionError", "IntegrationError", "IntegrationLatency",
        "ConnectCount", "MessageCount", "AppErrors",
    }  # fmt: skip
    for metric in ("ClientError", "ConnectCount", "IntegrationLatency"):
        alarm = alarms[metric]
        assert alarm["Namespace"] == "AWS/ApiGateway"
        assert sorted((d["Name"], d["Value"]) for d in alarm["Dimensions"]) == [
            ("ApiId", gateway.api_id),
            ("Stage", STAGE),
        ]
        assert alarm["AlarmActions"] == [TOPIC]
    assert alarms["IntegrationLatency"]["ExtendedStatistic"] == "p99"
    assert alarms["IntegrationLatency"]["Threshold"] == 5000
    assert alarms["ConnectCount"]["ComparisonOperator"] == "LessThanThreshold"
    assert alarms["ConnectCount"]["TreatMissingData"] == "breaching"
    assert alarms["ClientError"]["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarms["AppErrors"]["Namespace"] == f"WsGateway/{gateway.api_id}/{STAGE}"

    filters = gateway.logs.describe_metric_filters(logGroupName=APP_LOGS[1])["metricFilters"]
    patterns = {f["metricTransformations"][0]["metricName"]: f["filterPattern"] for f in filters}
    assert patterns["AppErrors"] == '{ $.level = "error" }'
    assert patterns["GatewaySecretInvalid"] == '{ $.event = "ws.gateway_secret.invalid" }'
    summary = _summary(output)
    assert summary["command"] == "configure_gateway_monitoring"
    assert summary["ok"] is True
    assert summary["changed"] == 1 + 1 + 4 + 7  # log group, stage, filters, alarms


def test_a_second_run_writes_nothing_and_says_so(gateway):
    gateway.run(*VALUES)
    gateway.forget_calls()

    output, status = gateway.run(*VALUES)

    assert status == 0
    assert gateway.writes() == {}
    assert "nothing to change" in output
    assert "    changed:" not in output
    assert _summary(output)["changed"] == 0


def test_check_writes_nothing_names_each_difference_and_exits_1(gateway):
    output, status = gateway.run("--check", *VALUES)

    assert status == 1
    assert gateway.writes() == {}
    assert "would change: stage" in output
    assert "DetailedMetricsEnabled False → True" in output
    assert f"would change: alarm apigateway-{gateway.api_id}-{STAGE}-ClientError (create)" in output
    assert "AccessLogSettings" not in gateway.stage()
    assert _summary(output)["ok"] is False

    gateway.run(*VALUES)
    output, status = gateway.run("--check", *VALUES)
    assert status == 0, output


def test_without_the_account_cloudwatch_role_it_stops_with_the_fix_before_any_change(gateway):
    gateway.apigateway.update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}]
    )

    with pytest.raises(CommandError) as error:
        gateway.run(*VALUES)

    assert "has no CloudWatch role" in str(error.value)
    assert "aws apigateway update-account --region eu-west-1" in str(error.value)
    assert gateway.writes() == {}


def test_without_access_logs_the_role_is_not_needed_and_the_log_settings_are_left_alone(gateway):
    gateway.apigateway.update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}]
    )

    output, status = gateway.run("--no-access-logs", "--no-detailed-metrics")

    assert status == 0, output
    assert "AccessLogSettings" not in gateway.stage()
    assert gateway.stage()["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 500


def test_a_changed_threshold_updates_that_alarm_and_a_dropped_alarm_is_deleted(gateway):
    gateway.run(*VALUES)
    gateway.forget_calls()
    thresholds = {**THRESHOLDS, "client-errors": 250}
    del thresholds["message-count-below"]

    output, status = gateway.run(*_alarm_args(thresholds), "--alarm-topic-arn", TOPIC, *APP_LOGS)

    assert status == 0, output
    alarms = _alarms(gateway)
    assert alarms["ClientError"]["Threshold"] == 250
    assert "MessageCount" not in alarms
    assert gateway.writes() == {"PutMetricAlarm": 1, "DeleteAlarms": 1}
    assert "Threshold 100.0 → 250.0" in output
    assert "delete: no longer asked for" in output


def test_a_logging_level_set_by_hand_is_kept(gateway):
    gateway.run()
    stage = gateway.stage()
    gateway.apigatewayv2.update_stage(
        ApiId=gateway.api_id,
        StageName=STAGE,
        DefaultRouteSettings={**stage["DefaultRouteSettings"], "LoggingLevel": "ERROR"},
    )

    gateway.run("--throttling-rate-limit", "50")

    routes = gateway.stage()["DefaultRouteSettings"]
    assert routes["LoggingLevel"] == "ERROR"
    assert routes["ThrottlingRateLimit"] == 50.0


def test_a_stage_that_leaves_out_detailed_metrics_has_them_off(gateway):
    """A stage answer without DetailedMetricsEnabled is not a difference from "off": else every
    run would update the stage again."""
    gateway.run("--no-detailed-metrics")
    key = (gateway.api_id, STAGE)
    gateway.apigatewayv2.stage_settings[key]["DefaultRouteSettings"].pop("DetailedMetricsEnabled")
    gateway.forget_calls()

    output, status = gateway.run("--no-detailed-metrics")

    assert status == 0, output
    assert gateway.writes() == {}
    assert "nothing to change" in output


def test_app_alarms_need_the_app_log_group(gateway):
    output, status = gateway.run("--alarm", "app-errors=0")

    assert status == 0, output
    assert _alarms(gateway) == {}
    assert "metric filter" not in output


def test_an_unknown_alarm_is_refused_with_the_known_names(gateway):
    with pytest.raises(CommandError, match=r"unknown alarm 'client-error'.*client-errors"):
        gateway.run("--alarm", "client-error=5")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--throttling-rate-limit", "-1"), "--throttling-rate-limit: -1 is negative"),
        (("--log-retention-days", "31"), "invalid choice: 31"),
        (("--alarm", "client-errors=many"), "'many' is not a number"),
        (("--alarm", "client-errors=-5"), "never negative"),
    ],
)
def test_bad_values_are_refused_before_any_aws_call(gateway, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        gateway.run(*args)
    assert gateway.calls == {}


def test_a_record_without_an_api_names_the_provisioning_command(gateway):
    gateway.record.__class__.objects.filter(pk=gateway.record.pk).update(api_id="")

    with pytest.raises(CommandError, match=r"createApiGateway --pk \d+"):
        gateway.run()


def test_the_log_format_carries_what_the_issue_and_the_recipes_read():
    assert ACCESS_LOG_FIELDS["requestId"] == "$context.requestId"
    assert {"requestId", "connectionId", "eventType", "routeKey", "status", "integrationError"} <= (
        set(ACCESS_LOG_FIELDS)
    )


@pytest.mark.parametrize("kind", list(AlarmKind))
def test_every_alarm_links_a_section_of_the_runbook(kind):
    """Each alarm's description names docs/aws-monitoring.md#<kind>: that heading must exist."""
    runbook = (ROOT / "docs" / "aws-monitoring.md").read_text()
    assert f"\n### {kind.value}\n" in runbook
