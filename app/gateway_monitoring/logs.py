"""CloudWatch Logs: the access-log group with its retention, and the metric filters that count
the app's JSON error events in the app's own log group (where the cluster ships container logs,
e.g. Fluent Bit or Container Insights)."""

from botocore.exceptions import ClientError

from gateway_monitoring.outcome import Outcome
from gateway_monitoring.plan import Plan, Target


def _log_group(client, name: str) -> dict | None:
    answer = client.describe_log_groups(logGroupNamePrefix=name)
    return next(
        (group for group in answer.get("logGroups", []) if group["logGroupName"] == name), None
    )


def log_group_arn(client, name: str) -> str:
    """The ARN without the trailing ``:*`` DescribeLogGroups's ``arn`` carries: the form
    AccessLogSettings.DestinationArn takes (botocore's logs model, LogGroup.logGroupArn)."""
    group = _log_group(client, name)
    if group is None:
        region = client.meta.region_name
        return f"arn:aws:logs:{region}:<account>:log-group:{name}"  # shown by --check only
    return group.get("logGroupArn") or group["arn"].removesuffix(":*")


def ensure_log_group(client, target: Target, plan: Plan, apply: bool) -> Outcome:
    name = target.log_group
    group = _log_group(client, name)
    differences = []
    if group is None:
        differences.append(f"create, retention {plan.log_retention_days} days")
    elif group.get("retentionInDays") != plan.log_retention_days:
        differences.append(
            f"retention {group.get('retentionInDays')} → {plan.log_retention_days} days"
        )
    subject = f"log group {name}"
    if not differences or not apply:
        return Outcome(subject, tuple(differences))
    if group is None:
        try:
            client.create_log_group(logGroupName=name)
        except ClientError as error:  # created meanwhile by a parallel run: keep going
            if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
    client.put_retention_policy(logGroupName=name, retentionInDays=plan.log_retention_days)
    return Outcome(subject, tuple(differences), applied=True)


def _filter_differences(current: dict | None, wanted: dict) -> list[str]:
    if current is None:
        return ["create"]
    differences = []
    if current.get("filterPattern") != wanted["filterPattern"]:
        differences.append(
            f"pattern {current.get('filterPattern')!r} → {wanted['filterPattern']!r}"
        )
    transformation = (current.get("metricTransformations") or [{}])[0]
    for key, value in wanted["metricTransformations"][0].items():
        if transformation.get(key) != value:
            differences.append(f"{key} {transformation.get(key)} → {value}")
    return differences


def ensure_metric_filters(client, wanted: list[dict], apply: bool) -> list[Outcome]:
    outcomes = []
    for definition in wanted:
        answer = client.describe_metric_filters(
            logGroupName=definition["logGroupName"], filterNamePrefix=definition["filterName"]
        )
        current = next(
            (
                f
                for f in answer.get("metricFilters", [])
                if f["filterName"] == definition["filterName"]
            ),
            None,
        )
        differences = _filter_differences(current, definition)
        subject = f"metric filter {definition['filterName']} on {definition['logGroupName']}"
        if differences and apply:
            client.put_metric_filter(**definition)
        outcomes.append(Outcome(subject, tuple(differences), applied=bool(differences) and apply))
    return outcomes
