"""The stage the package creates bare: access logging, detailed metrics and default-route
throttling (apigatewayv2 UpdateStage,
https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages-stagename.html).
Stage settings take effect without a new deployment."""

from gateway_monitoring.outcome import Outcome
from gateway_monitoring.plan import ACCESS_LOG_FORMAT, Plan, Target


def wanted_route_settings(plan: Plan) -> dict:
    return {
        "DetailedMetricsEnabled": plan.detailed_metrics,
        "ThrottlingBurstLimit": plan.throttling_burst_limit,
        "ThrottlingRateLimit": float(plan.throttling_rate_limit),
    }


# A stage may answer without DetailedMetricsEnabled: unset is off, as API Gateway sends no
# per-route metrics "unless you have explicitly enabled detailed CloudWatch metrics"
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html).
_UNSET = {"DetailedMetricsEnabled": False}


def _differences(stage: dict, plan: Plan, log_group_arn: str) -> list[str]:
    current_routes = {**_UNSET, **(stage.get("DefaultRouteSettings") or {})}
    differences = [
        f"{name} {current_routes.get(name)} → {value}"
        for name, value in wanted_route_settings(plan).items()
        if current_routes.get(name) != value
    ]
    current_log = stage.get("AccessLogSettings") or {}
    if plan.access_logs:
        if current_log.get("DestinationArn") != log_group_arn:
            differences.append(
                f"access logs to {current_log.get('DestinationArn')} → {log_group_arn}"
            )
        elif current_log.get("Format") != ACCESS_LOG_FORMAT:
            differences.append("access log format")
    return differences


def configure_stage(client, target: Target, plan: Plan, log_group_arn: str, apply: bool) -> Outcome:
    """Compare the stage with the plan and, when ``apply``, update what differs. The current
    DefaultRouteSettings are sent back with ours merged in, so a setting the command does not own
    (an execution LoggingLevel set by hand) is kept whether UpdateStage merges or replaces."""
    stage = client.get_stage(ApiId=target.api_id, StageName=target.stage)
    differences = _differences(stage, plan, log_group_arn)
    subject = f"stage {target.api_id}/{target.stage}"
    if not differences or not apply:
        return Outcome(subject, tuple(differences))
    routes = {**(stage.get("DefaultRouteSettings") or {}), **wanted_route_settings(plan)}
    # With access logs off the command leaves AccessLogSettings as they are: how to clear them
    # through UpdateStage is not documented for WebSocket APIs (docs/aws-monitoring.md).
    access = (
        {"AccessLogSettings": {"DestinationArn": log_group_arn, "Format": ACCESS_LOG_FORMAT}}
        if plan.access_logs
        else {}
    )
    client.update_stage(
        ApiId=target.api_id, StageName=target.stage, DefaultRouteSettings=routes, **access
    )
    return Outcome(subject, tuple(differences), applied=True)
