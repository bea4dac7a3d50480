"""CloudWatch alarms on the stage's metrics and the app's filter metrics. The command owns every
alarm whose name starts with the stage's prefix: one the values no longer ask for is deleted.
PutMetricAlarm overwrites an alarm's whole configuration, so an update sends every field
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)."""

from gateway_monitoring.outcome import Outcome
from gateway_monitoring.plan import Target

_COMPARED = (
    "AlarmDescription",
    "Namespace",
    "MetricName",
    "Statistic",
    "ExtendedStatistic",
    "Period",
    "EvaluationPeriods",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "ActionsEnabled",
    "AlarmActions",
    "OKActions",
)


def _dimensions(alarm: dict) -> list[tuple[str, str]]:
    return sorted((d["Name"], d["Value"]) for d in alarm.get("Dimensions", []))


def _differences(current: dict | None, wanted: dict) -> list[str]:
    if current is None:
        return ["create"]
    differences = [
        f"{key} {current.get(key)} → {wanted.get(key)}"
        for key in _COMPARED
        if current.get(key, [] if key.endswith("Actions") else None) != wanted.get(key)
    ]
    if _dimensions(current) != _dimensions(wanted):
        differences.append(f"dimensions {_dimensions(current)} → {_dimensions(wanted)}")
    return differences


def existing_alarms(client, target: Target) -> dict[str, dict]:
    alarms: dict[str, dict] = {}
    paginator = client.get_paginator("describe_alarms")
    for page in paginator.paginate(AlarmNamePrefix=target.alarm_prefix, AlarmTypes=["MetricAlarm"]):
        alarms.update({alarm["AlarmName"]: alarm for alarm in page.get("MetricAlarms", [])})
    return alarms


def ensure_alarms(client, target: Target, wanted: list[dict], apply: bool) -> list[Outcome]:
    current = existing_alarms(client, target)
    outcomes = []
    for definition in wanted:
        differences = _differences(current.pop(definition["AlarmName"], None), definition)
        if differences and apply:
            client.put_metric_alarm(**definition)
        outcomes.append(
            Outcome(
                f"alarm {definition['AlarmName']}",
                tuple(differences),
                applied=bool(differences) and apply,
            )
        )
    stale = sorted(current)
    if stale and apply:
        client.delete_alarms(AlarmNames=stale)
    outcomes.extend(
        Outcome(f"alarm {name}", ("delete: no longer asked for",), apply) for name in stale
    )
    return outcomes
