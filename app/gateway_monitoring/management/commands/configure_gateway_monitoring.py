import argparse

from django.core.management.base import CommandError
from django_aws_api_gateway_websockets.models import ApiGateway, get_boto3_client

from gateway_monitoring.errors import MonitoringError, NotProvisioned
from gateway_monitoring.plan import RETENTION_DAYS, AlarmKind, Plan, Target
from gateway_monitoring.runner import Clients, converge
from observability.summary import Figures, SummaryCommand

DEFAULTS = Plan()


def alarm_threshold(value: str) -> tuple[AlarmKind, float]:
    """``KEY=NUMBER``, KEY one of AlarmKind's values."""
    key, _, number = value.partition("=")
    try:
        kind = AlarmKind(key)
    except ValueError:
        known = ", ".join(kind.value for kind in AlarmKind)
        raise argparse.ArgumentTypeError(f"unknown alarm {key!r} (known: {known})") from None
    try:
        threshold = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{key}: {number!r} is not a number") from None
    if threshold < 0:
        raise argparse.ArgumentTypeError(f"{key}: a threshold is never negative")
    return kind, threshold


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive whole number")
    return number


def non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


def non_negative_float(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


class Command(SummaryCommand):
    help = (
        "Configure the stage the package creates bare (access logs to CloudWatch, detailed "
        "metrics, default-route throttling) and create the CloudWatch alarms and log metric "
        "filters of docs/aws-monitoring.md. Idempotent: a second run changes nothing. --check "
        "writes nothing and exits 1 when anything differs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--pk", type=int, required=True, help="the ApiGateway record")
        parser.add_argument("--check", action="store_true", help="read only: report differences")
        bool_flag = argparse.BooleanOptionalAction
        parser.add_argument("--access-logs", action=bool_flag, default=DEFAULTS.access_logs)
        parser.add_argument(
            "--log-retention-days",
            type=int,
            choices=RETENTION_DAYS,
            default=DEFAULTS.log_retention_days,
            metavar="DAYS",
            help="one of the periods CloudWatch Logs accepts: "
            + ", ".join(map(str, RETENTION_DAYS)),
        )
        parser.add_argument(
            "--detailed-metrics", action=bool_flag, default=DEFAULTS.detailed_metrics
        )
        parser.add_argument(
            "--throttling-burst-limit",
            type=non_negative_int,
            default=DEFAULTS.throttling_burst_limit,
        )
        parser.add_argument(
            "--throttling-rate-limit",
            type=non_negative_float,
            default=DEFAULTS.throttling_rate_limit,
        )
        parser.add_argument("--alarm-topic-arn", default="", help="SNS topic the alarms notify")
        parser.add_argument(
            "--alarm-period-seconds", type=positive_int, default=DEFAULTS.alarm_period_seconds
        )
        parser.add_argument(
            "--alarm-evaluation-periods",
            type=positive_int,
            default=DEFAULTS.alarm_evaluation_periods,
        )
        parser.add_argument(
            "--alarm",
            type=alarm_threshold,
            action="append",
            default=[],
            metavar="KEY=THRESHOLD",
            help="an alarm to keep (repeat); an owned alarm not named is deleted",
        )
        parser.add_argument("--app-log-group", default="", help="the log group of the app's lines")
        parser.add_argument(
            "--app-log-json-root",
            default=DEFAULTS.app_log_json_root,
            help="where the app's JSON object sits in each event ($, or e.g. $.log_processed)",
        )

    def run(self, *, pk: int, check: bool, **options) -> Figures:
        record = self._record(pk)
        target = Target(record.api_id, record.stage_name)
        plan = self._plan(options)
        clients = Clients(
            *(get_boto3_client(s) for s in ("apigatewayv2", "apigateway", "logs", "cloudwatch"))
        )
        mode = "checking (read-only)" if check else "configuring"
        self.stdout.write(f"==> {mode} monitoring of API {target.api_id}, stage {target.stage}")
        try:
            outcomes = converge(clients, target, plan, not check, self.stdout.write)
        except MonitoringError as error:
            raise CommandError(str(error)) from error
        changed = sum(outcome.changed for outcome in outcomes)
        if not changed:
            self.stdout.write("==> nothing to change: the stage, logs and alarms match the values")
        else:
            verb = "would change" if check else "changed"
            self.stdout.write(f"==> {verb} {changed} of {len(outcomes)}")
        return {
            "api_gateway": pk,
            "check": check,
            "changed": changed,
            "unchanged": len(outcomes) - changed,
        }

    def succeeded(self, figures: Figures) -> bool:
        return not (figures["check"] and figures["changed"])

    def _record(self, pk: int) -> ApiGateway:
        try:
            record = ApiGateway.objects.get(pk=pk)
        except ApiGateway.DoesNotExist:
            raise CommandError(f"no ApiGateway with pk {pk}", returncode=2) from None
        if not (record.api_id and record.stage_name):
            raise CommandError(str(NotProvisioned(pk)))
        return record

    @staticmethod
    def _plan(options: dict) -> Plan:
        return Plan(
            access_logs=options["access_logs"],
            log_retention_days=options["log_retention_days"],
            detailed_metrics=options["detailed_metrics"],
            throttling_burst_limit=options["throttling_burst_limit"],
            throttling_rate_limit=options["throttling_rate_limit"],
            alarm_topic_arn=options["alarm_topic_arn"],
            alarm_period_seconds=options["alarm_period_seconds"],
            alarm_evaluation_periods=options["alarm_evaluation_periods"],
            alarms=dict(options["alarm"]),
            app_log_group=options["app_log_group"],
            app_log_json_root=options["app_log_json_root"],
        )
