"""API Gateway's account-level CloudWatch role: without it, API Gateway refuses access logging on
any stage of the region ("CloudWatch Logs role ARN must be set in account settings to enable
logging"). It is one setting for the whole account and region, shared by every API, so the command
checks it and names the fix; it never changes it (AWS::ApiGateway::Account, "to avoid overwriting
other roles ... only one per region per account":
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-account.html).
"""

from gateway_monitoring.errors import NoCloudWatchRole


def cloudwatch_role(apigateway_v1) -> str:
    """The account's role ARN, or raise NoCloudWatchRole. ``apigateway_v1`` is a boto3
    ``apigateway`` client (the account setting is not in the v2 API)."""
    role = apigateway_v1.get_account().get("cloudwatchRoleArn", "")
    if not role:
        raise NoCloudWatchRole(apigateway_v1.meta.region_name)
    return role
