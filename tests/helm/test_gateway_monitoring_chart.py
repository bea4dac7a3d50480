"""provisioning.monitoring and secrets.sentry as the chart renders them: the provisioning Job's
configure_gateway_monitoring line is parsed by the command's own parser (so every value reaches
the flag it means), a null threshold is no alarm, the schema refuses what AWS would, and
SENTRY_DSN comes only from its Secret."""

import copy
import shlex

import pytest

from gateway_monitoring.management.commands.configure_gateway_monitoring import Command
from gateway_monitoring.plan import AlarmKind
from tests.helm import support

VARIANTS = support.variants()
IRSA = VARIANTS["ci:irsa-values.yaml"]
COMMAND = "python manage.py configure_gateway_monitoring"


def _script(values: dict) -> str:
    job = support.one(support.render(values), "Job", "-provision")
    return support.app_containers(job)[0]["command"][-1]


def _options(values: dict) -> dict:
    """The Job's configure_gateway_monitoring flags, as the command parses them."""
    (line,) = [line for line in _script(values).splitlines() if line.startswith(COMMAND)]
    argv = shlex.split(line.removeprefix(COMMAND).split("||")[0].replace("${API_GATEWAY_PK}", "1"))
    return vars(
        Command().create_parser("manage.py", "configure_gateway_monitoring").parse_args(argv)
    )


def test_the_job_configures_monitoring_after_the_steps_with_every_value():
    script = _script(IRSA)
    assert script.index("for step in") < script.index(COMMAND) < script.index('done"')

    options = _options(IRSA)

    assert options["pk"] == 1
    assert options["access_logs"] is True
    assert options["detailed_metrics"] is True
    assert options["log_retention_days"] == 30
    assert (options["throttling_burst_limit"], options["throttling_rate_limit"]) == (500, 1000.0)
    assert options["alarm_topic_arn"] == "arn:aws:sns:eu-west-1:123456789012:wsgateway-alerts"
    assert options["app_log_group"] == "/aws/containerinsights/prod-eu/application"
    assert options["app_log_json_root"] == "$.log_processed"
    assert dict(options["alarm"]) == {
        AlarmKind.CLIENT_ERRORS: 100,
        AlarmKind.EXECUTION_ERRORS: 0,
        AlarmKind.INTEGRATION_ERRORS: 50,
        AlarmKind.INTEGRATION_LATENCY_P99: 5000,
        AlarmKind.CONNECT_COUNT_BELOW: 1,
        AlarmKind.APP_ERRORS: 0,
    }


def test_switches_and_a_null_threshold_reach_the_command():
    values = copy.deepcopy(IRSA)
    monitoring = values["provisioning"]["monitoring"]
    monitoring["accessLogs"] = {"enabled": False}
    monitoring["detailedMetrics"] = False
    monitoring["appLogs"]["logGroupName"] = ""
    # A null in the values (Helm drops the chart's default for it) is no alarm.
    monitoring["alarms"]["thresholds"].update(clientErrors=None, connectCountBelow=None)

    options = _options(values)

    assert options["access_logs"] is False
    assert options["detailed_metrics"] is False
    assert options["app_log_group"] == ""
    assert AlarmKind.CLIENT_ERRORS not in dict(options["alarm"])
    assert AlarmKind.CONNECT_COUNT_BELOW not in dict(options["alarm"])
    assert AlarmKind.INTEGRATION_ERRORS in dict(options["alarm"])


def test_monitoring_is_off_by_default():
    values = support.merge(IRSA, {"provisioning": {"monitoring": {"enabled": False}}})
    assert "configure_gateway_monitoring" not in _script(values)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"accessLogs": {"retentionDays": 31}}, "retentionDays"),
        ({"alarms": {"periodSeconds": 90}}, "periodSeconds"),
        ({"alarms": {"snsTopicArn": "wsgateway-alerts"}}, "snsTopicArn"),
        ({"alarms": {"thresholds": {"clientErrors": -1}}}, "clientErrors"),
        ({"appLogs": {"jsonRoot": "log_processed"}}, "jsonRoot"),
        ({"alarms": {"thresholds": {"clientError": 5}}}, "clientError"),
    ],
)
def test_the_schema_refuses_what_cloudwatch_would(change, field):
    values = support.merge(IRSA, {"provisioning": {"monitoring": change}})
    with pytest.raises(Exception, match=field):
        support.render(values)


def _dsn_sources(values: dict) -> list:
    """SENTRY_DSN's source in every app container that gets the app's secrets."""
    sources = []
    for workload in support.workloads(support.render(values)):
        for container in support.app_containers(workload):
            env = {e["name"]: e for e in container.get("env", [])}
            if "SECRET_KEY" in env:
                sources.append(env.get("SENTRY_DSN", {}).get("valueFrom"))
    return sources


def test_sentry_dsn_comes_from_its_own_secret_only():
    with_sentry = _dsn_sources(VARIANTS["ci:existing-secret-values.yaml"])

    assert len(with_sentry) > 1
    assert all(
        source == {"secretKeyRef": {"name": "platform-sentry", "key": "SENTRY_DSN"}}
        for source in with_sentry
    )
    assert set(_dsn_sources(IRSA)) == {None}
