"""The order of the work: the account's CloudWatch role, the log group, the stage, the app's metric
filters, the alarms. Each step reads first and writes only what differs, so a second run changes
nothing; with ``apply`` false nothing is written at all (--check)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from gateway_monitoring.account import cloudwatch_role
from gateway_monitoring.alarms import ensure_alarms
from gateway_monitoring.errors import AwsRefused
from gateway_monitoring.logs import ensure_log_group, ensure_metric_filters, log_group_arn
from gateway_monitoring.outcome import Outcome
from gateway_monitoring.plan import Plan, Target, alarm_definitions, metric_filter_definitions
from gateway_monitoring.stage import configure_stage


@dataclass(frozen=True)
class Clients:
    """boto3 clients in the gateway's region: apigatewayv2, apigateway (the account setting),
    logs, cloudwatch."""

    apigatewayv2: Any
    apigateway: Any
    logs: Any
    cloudwatch: Any


def converge(
    clients: Clients, target: Target, plan: Plan, apply: bool, say: Callable[[str], None]
) -> list[Outcome]:
    """Every outcome, each line said as soon as it is known."""
    outcomes: list[Outcome] = []
    for outcome in _steps(clients, target, plan, apply, say):
        say(outcome.line())
        outcomes.append(outcome)
    return outcomes


def _steps(clients: Clients, target: Target, plan: Plan, apply: bool, say) -> Iterator[Outcome]:
    try:
        if plan.access_logs:
            say("==> API Gateway's account CloudWatch role (needed for access logs)")
            say(f"    {cloudwatch_role(clients.apigateway)}")
            say("==> access log group")
            yield ensure_log_group(clients.logs, target, plan, apply)
        say("==> stage: access logging, detailed metrics, default-route throttling")
        arn = log_group_arn(clients.logs, target.log_group) if plan.access_logs else ""
        yield configure_stage(clients.apigatewayv2, target, plan, arn, apply)
        filters = metric_filter_definitions(target, plan)
        if filters:
            say(f"==> metric filters for the app's JSON error events on {plan.app_log_group}")
            yield from ensure_metric_filters(clients.logs, filters, apply)
        say(f"==> CloudWatch alarms {target.alarm_prefix}*")
        yield from ensure_alarms(clients.cloudwatch, target, alarm_definitions(target, plan), apply)
    except ClientError as error:
        details = error.response.get("Error", {})
        raise AwsRefused(
            error.operation_name, details.get("Code", "?"), details.get("Message", "")
        ) from error
