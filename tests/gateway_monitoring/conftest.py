"""A WebSocket API and its bare stage as the package leaves them (moto, plus the UpdateStage of
aws_fakes), the account's CloudWatch role set, and the command's clients: moto's real boto3
clients for apigateway, logs and cloudwatch, each recording the calls it makes."""

import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
import pytest
from django.core.management import call_command
from django_aws_api_gateway_websockets.models import ApiGateway, clear_boto3_client_cache
from moto import mock_aws

from gateway_monitoring.management.commands import configure_gateway_monitoring
from tests.gateway_monitoring.aws_fakes import ApiGatewayWithStageUpdates

REGION = "eu-west-1"
STAGE = "production"
ROLE = "arn:aws:iam::123456789012:role/apigateway-cloudwatch"
WRITES = {
    "UpdateStage",
    "CreateLogGroup",
    "PutRetentionPolicy",
    "PutMetricFilter",
    "PutMetricAlarm",
    "DeleteAlarms",
}


@dataclass
class Gateway:
    record: ApiGateway
    apigatewayv2: ApiGatewayWithStageUpdates
    apigateway: Any
    logs: Any
    cloudwatch: Any
    calls: Counter = field(default_factory=Counter)

    @property
    def api_id(self) -> str:
        return self.record.api_id

    def stage(self) -> dict:
        return self.apigatewayv2.get_stage(ApiId=self.api_id, StageName=STAGE)

    def forget_calls(self) -> None:
        self.calls.clear()
        self.apigatewayv2.updates.clear()

    def writes(self) -> Counter:
        writes = Counter({name: n for name, n in self.calls.items() if name in WRITES})
        writes["UpdateStage"] = len(self.apigatewayv2.updates)
        return +writes

    def run(self, *args: str) -> tuple[str, int]:
        """The command's output and exit status."""
        out = io.StringIO()
        clients = {
            "apigatewayv2": self.apigatewayv2,
            "apigateway": self.apigateway,
            "logs": self.logs,
            "cloudwatch": self.cloudwatch,
        }
        with mock.patch.object(
            configure_gateway_monitoring, "get_boto3_client", side_effect=clients.__getitem__
        ):
            try:
                call_command(
                    "configure_gateway_monitoring", "--pk", str(self.record.pk), *args, stdout=out
                )
            except SystemExit as exit_:
                return out.getvalue(), int(exit_.code)
        return out.getvalue(), 0


def _recording(client, calls: Counter):
    def record(model, **_kwargs) -> None:
        calls[model.name] += 1

    client.meta.events.register("before-call.*.*", record)
    return client


@pytest.fixture
def gateway(db, settings) -> Gateway:
    settings.AWS_GATEWAY_REGION_NAME = REGION
    with mock_aws():
        clear_boto3_client_cache()
        v2 = boto3.client("apigatewayv2", region_name=REGION)
        api_id = v2.create_api(
            Name="wsgateway-prod",
            ProtocolType="WEBSOCKET",
            RouteSelectionExpression="$request.body.action",
        )["ApiId"]
        v2.create_stage(ApiId=api_id, StageName=STAGE)
        account = boto3.client("apigateway", region_name=REGION)
        account.update_account(
            patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ROLE}]
        )
        record = ApiGateway.objects.create(
            api_name="wsgateway-prod",
            stage_name=STAGE,
            target_base_endpoint="https://app.example.com/ws/",
            api_id=api_id,
        )
        calls: Counter = Counter()
        yield Gateway(
            record,
            ApiGatewayWithStageUpdates(v2, account),
            account,
            _recording(boto3.client("logs", region_name=REGION), calls),
            _recording(boto3.client("cloudwatch", region_name=REGION), calls),
            calls,
        )
    clear_boto3_client_cache()
