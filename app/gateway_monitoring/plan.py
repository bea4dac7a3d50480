"""What the stage, its log group and its alarms should be: one ApiGateway record's API and stage
plus the values the chart passes (helm/values.yaml, provisioning.monitoring). Pure data, no AWS
calls, so every name and threshold is tested without a client.

AWS's own definitions: the WebSocket metrics and their dimensions
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html),
the access-log variables
(https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html).
"""

import json
from dataclasses import dataclass, field
from enum import StrEnum

API_NAMESPACE = "AWS/ApiGateway"
APP_NAMESPACE = "WsGateway"

# One JSON object per connection event. AWS requires $context.requestId in an access-log format
# ("To preserve uniqueness of each log", set-up-logging.html); the rest is what docs/
# aws-monitoring.md's Logs Insights recipes read.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "connectionId": "$context.connectionId",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "integrationError": "$context.integration.error",
    "error": "$context.error.message",
    "sourceIp": "$context.identity.sourceIp",
}
ACCESS_LOG_FORMAT = json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


# The retention periods CloudWatch Logs accepts (PutRetentionPolicy, retentionInDays:
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip


class AlarmKind(StrEnum):
    """The alarms the command can own; the value is the key of ``--alarm KEY=THRESHOLD``."""

    CLIENT_ERRORS = "client-errors"
    EXECUTION_ERRORS = "execution-errors"
    INTEGRATION_ERRORS = "integration-errors"
    INTEGRATION_LATENCY_P99 = "integration-latency-p99-ms"
    CONNECT_COUNT_BELOW = "connect-count-below"
    MESSAGE_COUNT_BELOW = "message-count-below"
    APP_ERRORS = "app-errors"


@dataclass(frozen=True)
class AlarmRule:
    metric: str
    statistic: str  # Sum, or an extended statistic such as p99
    above: bool  # fires above the threshold (errors, latency) or below it (traffic drops)
    meaning: str
    app: bool = False  # a metric of the app's log filters, not of API Gateway


RULES: dict[AlarmKind, AlarmRule] = {
    AlarmKind.CLIENT_ERRORS: AlarmRule(
        "ClientError", "Sum", True, "4XX answered by API Gateway before Django was called"
    ),
    AlarmKind.EXECUTION_ERRORS: AlarmRule(
        "ExecutionError", "Sum", True, "API Gateway could not call Django (network, timeout)"
    ),
    AlarmKind.INTEGRATION_ERRORS: AlarmRule(
        "IntegrationError", "Sum", True, "Django answered a callback with 4XX/5XX"
    ),
    AlarmKind.INTEGRATION_LATENCY_P99: AlarmRule(
        "IntegrationLatency", "p99", True, "p99 of Django's callback answers, milliseconds"
    ),
    AlarmKind.CONNECT_COUNT_BELOW: AlarmRule(
        "ConnectCount", "Sum", False, "fewer $connect calls than the floor (or none at all)"
    ),
    AlarmKind.MESSAGE_COUNT_BELOW: AlarmRule(
        "MessageCount", "Sum", False, "fewer frames than the floor (or none at all)"
    ),
    AlarmKind.APP_ERRORS: AlarmRule(
        "AppErrors", "Sum", True, 'the app logged "level": "error" lines', app=True
    ),
}


@dataclass(frozen=True)
class MetricFilterRule:
    name: str
    metric: str
    # A JSON filter pattern on the app's log line, ``{root}`` standing for the path of the line's
    # object (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
    pattern: str


APP_METRIC_FILTERS = (
    MetricFilterRule("app-errors", "AppErrors", '{{ {root}.level = "error" }}'),
    MetricFilterRule(
        "gateway-secret-invalid",
        "GatewaySecretInvalid",
        '{{ {root}.event = "ws.gateway_secret.invalid" }}',
    ),
    MetricFilterRule(
        "send-failed", "ManagementApiSendFailed", '{{ {root}.event = "ws.send.failed" }}'
    ),
    MetricFilterRule(
        "database-breaker-opened",
        "DatabaseBreakerOpened",
        '{{ {root}.event = "db.breaker.opened" }}',
    ),
)


@dataclass(frozen=True)
class Plan:
    """The values: every field has the chart's default."""

    access_logs: bool = True
    log_retention_days: int = 30
    detailed_metrics: bool = True
    throttling_burst_limit: int = 500
    throttling_rate_limit: float = 1000.0
    alarm_topic_arn: str = ""
    alarm_period_seconds: int = 300
    alarm_evaluation_periods: int = 1
    alarms: dict[AlarmKind, float] = field(default_factory=dict)
    app_log_group: str = ""
    app_log_json_root: str = "$"


@dataclass(frozen=True)
class Target:
    """The record's API and stage, and the names derived from them (k8s/iam/deploy-policy.json
    scopes the role to exactly these)."""

    api_id: str
    stage: str

    @property
    def log_group(self) -> str:
        return f"/apigateway/{self.api_id}/{self.stage}/access"

    @property
    def alarm_prefix(self) -> str:
        return f"apigateway-{self.api_id}-{self.stage}-"

    @property
    def app_namespace(self) -> str:
        return f"{APP_NAMESPACE}/{self.api_id}/{self.stage}"

    @property
    def filter_prefix(self) -> str:
        return f"wsgateway-{self.api_id}-{self.stage}-"


def alarm_definition(target: Target, plan: Plan, kind: AlarmKind, threshold: float) -> dict:
    """PutMetricAlarm's arguments for one alarm. A drop alarm treats missing data as breaching:
    API Gateway publishes no datapoint for a period without traffic, which is the drop itself."""
    rule = RULES[kind]
    statistic = (
        {"Statistic": rule.statistic}
        if rule.statistic == "Sum"
        else {"ExtendedStatistic": rule.statistic}
    )
    if rule.app:
        namespace, dimensions = target.app_namespace, []
    else:
        namespace = API_NAMESPACE
        dimensions = [
            {"Name": "ApiId", "Value": target.api_id},
            {"Name": "Stage", "Value": target.stage},
        ]
    actions = [plan.alarm_topic_arn] if plan.alarm_topic_arn else []
    return {
        "AlarmName": f"{target.alarm_prefix}{rule.metric}",
        "AlarmDescription": f"{rule.meaning} (docs/aws-monitoring.md#{kind.value})",
        "Namespace": namespace,
        "MetricName": rule.metric,
        "Dimensions": dimensions,
        **statistic,
        "Period": plan.alarm_period_seconds,
        "EvaluationPeriods": plan.alarm_evaluation_periods,
        "Threshold": float(threshold),
        "ComparisonOperator": "GreaterThanThreshold" if rule.above else "LessThanThreshold",
        "TreatMissingData": "notBreaching" if rule.above else "breaching",
        "ActionsEnabled": True,
        "AlarmActions": actions,
        "OKActions": actions,
    }


def alarm_definitions(target: Target, plan: Plan) -> list[dict]:
    """Every alarm the plan asks for; an app alarm only where the app's log group is known."""
    return [
        alarm_definition(target, plan, kind, threshold)
        for kind, threshold in sorted(plan.alarms.items())
        if plan.app_log_group or not RULES[kind].app
    ]


def metric_filter_definitions(target: Target, plan: Plan) -> list[dict]:
    """PutMetricFilter's arguments for the app's error events; none without an app log group."""
    if not plan.app_log_group:
        return []
    return [
        {
            "logGroupName": plan.app_log_group,
            "filterName": f"{target.filter_prefix}{rule.name}",
            "filterPattern": rule.pattern.format(root=plan.app_log_json_root),
            "metricTransformations": [
                {
                    "metricName": rule.metric,
                    "metricNamespace": target.app_namespace,
                    "metricValue": "1",
                    "defaultValue": 0.0,
                }
            ],
        }
        for rule in APP_METRIC_FILTERS
    ]
