"""API Gateway v2's UpdateStage for the monitoring tests: moto 5.2 implements create/get of a
stage but not UpdateStage. ``ApiGatewayWithStageUpdates`` wraps moto's client and adds exactly
that, as AWS documents it:

- the request is validated against botocore's model of UpdateStage's input, and every GetStage
  answer against its output, so the fake accepts and answers nothing AWS could not;
- access logging needs the account's CloudWatch role (read from moto's ``apigateway`` account)
  and answers BadRequestException without it ("CloudWatch Logs role ARN must be set in account
  settings to enable logging");
- an access-log format must contain $context.requestId
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).

Every call is recorded, so a test can assert that a second run writes nothing.
"""

from botocore.exceptions import ClientError
from botocore.validate import validate_parameters


def _bad_request(message: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "BadRequestException", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "UpdateStage",
    )


class ApiGatewayWithStageUpdates:
    def __init__(self, client, account_client) -> None:
        self._client = client
        self._account = account_client
        self.meta = client.meta
        # (api id, stage) -> the fields UpdateStage set
        self.stage_settings: dict[tuple[str, str], dict] = {}
        self.updates: list[dict] = []

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def _model(self, operation: str):
        return self._client.meta.service_model.operation_model(operation)

    def get_stage(self, ApiId: str, StageName: str) -> dict:
        answer = dict(self._client.get_stage(ApiId=ApiId, StageName=StageName))
        answer.pop("ResponseMetadata", None)
        answer.update(self.stage_settings.get((ApiId, StageName), {}))
        validate_parameters(answer, self._model("GetStage").output_shape)
        return answer

    def update_stage(self, **request) -> dict:
        validate_parameters(request, self._model("UpdateStage").input_shape)
        key = (request["ApiId"], request["StageName"])
        self.get_stage(ApiId=key[0], StageName=key[1])  # NotFoundException as AWS
        access = request.get("AccessLogSettings")
        if access and access.get("DestinationArn"):
            if not self._account.get_account().get("cloudwatchRoleArn"):
                raise _bad_request(
                    "CloudWatch Logs role ARN must be set in account settings to enable logging"
                )
            if "$context.requestId" not in access.get("Format", ""):
                raise _bad_request("Access log format must include $context.requestId")
        self.updates.append(request)
        settings = self.stage_settings.setdefault(key, {})
        for name in ("AccessLogSettings", "DefaultRouteSettings"):
            if name in request:
                settings[name] = request[name]
        return self.get_stage(ApiId=key[0], StageName=key[1])
