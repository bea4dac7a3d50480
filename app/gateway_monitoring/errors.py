"""What stops the command, each with the fix an operator applies."""


class MonitoringError(Exception):
    """The command cannot go on; the message names the fix."""


class NoCloudWatchRole(MonitoringError):
    def __init__(self, region: str) -> None:
        super().__init__(
            f"API Gateway in {region} has no CloudWatch role (account setting cloudWatchRoleArn), "
            "so it cannot write access logs: create a role API Gateway may assume with the managed "
            "policy AmazonAPIGatewayPushToCloudWatchLogs, then `aws apigateway update-account "
            f"--region {region} --patch-operations "
            "op=replace,path=/cloudwatchRoleArn,value=ROLE_ARN` "
            "(docs/aws-monitoring.md#the-account-cloudwatch-role)"
        )


class NotProvisioned(MonitoringError):
    def __init__(self, pk: int) -> None:
        super().__init__(
            f"ApiGateway {pk} has no API in AWS yet: run the provisioning steps first "
            f"(python manage.py createApiGateway --pk {pk})"
        )


class AwsRefused(MonitoringError):
    """An AWS call failed; AccessDenied names the deploy role's document."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        hint = ""
        if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
            hint = (
                ": the deploy role lacks this permission; attach k8s/iam/deploy-policy.json "
                "(the bootstrap policy configures no monitoring)"
            )
        super().__init__(f"{operation} failed: {code}: {message}{hint}")
