"""Every check, in the order an operator reads them, and running them into findings.

A check that needs another (the routes need the API) is not run when that one did not pass:
its line says which. AWS's own refusals (a role that may not read, no credentials, no network)
become a ✗ line like any other fault, so one missing permission never hides the other checks.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from doctor import aws_checks, settings_checks
from doctor.context import Context
from doctor.findings import Failed, Finding, NotChecked, Status
from doctor.management_api_check import check_management_api

NEXT_STEP = (
    "make smoke-test (make smoke-test-cluster ENV=… in a cluster): a throw-away user signs in, "
    "takes a token, connects through the gateway and exchanges messages"
)


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    run: Callable[[Context], str]
    # "aws": API Gateway itself (not on the local stack); "settings": Django's settings;
    # "management-api": the identity's post; "next-step": what the doctor leaves to others.
    group: str
    needs: tuple[str, ...] = ()


def _token_flow(_ctx: Context) -> str:
    raise NotChecked(f"left to {NEXT_STEP}")


CHECKS: tuple[Check, ...] = (
    Check("api", "API in the region", aws_checks.check_api, "aws"),
    Check("routes", "Routes and integrations", aws_checks.check_routes, "aws", ("api",)),
    Check("stage", "Stage deployment", aws_checks.check_stage, "aws", ("api",)),
    Check("domain", "Custom domain", aws_checks.check_domain, "aws"),
    Check("mapping", "API mapping", aws_checks.check_mapping, "aws", ("domain",)),
    Check("certificate", "Certificate", aws_checks.check_certificate, "aws", ("domain",)),
    Check("dns", "DNS", aws_checks.check_dns, "aws", ("domain",)),
    Check(
        "integration-host",
        "Integration host in ALLOWED_HOSTS",
        settings_checks.check_integration_host,
        "settings",
    ),
    Check("page-origin", "Page origin for $connect", settings_checks.check_page_origin, "settings"),
    Check("csrf", "CSRF trusted origins", settings_checks.check_csrf, "settings"),
    Check("cookies", "Session cookie", settings_checks.check_cookies, "settings"),
    Check("ws-public-url", "WS_PUBLIC_URL", settings_checks.check_ws_public_url, "settings"),
    Check("management-api", "Management API post", check_management_api, "management-api"),
    Check("token-flow", "Token flow end to end", _token_flow, "next-step"),
)
GROUPS = sorted({check.group for check in CHECKS})


class UnknownCheck(ValueError):
    """A name given to --only or --skip is neither a check nor a group."""


def _names(names: Iterable[str]) -> set[str]:
    wanted = {name.strip() for name in names if name.strip()}
    unknown = wanted - {check.id for check in CHECKS} - set(GROUPS)
    if unknown:
        raise UnknownCheck(
            f"unknown check {', '.join(sorted(unknown))}: checks are "
            f"{', '.join(check.id for check in CHECKS)}; groups are {', '.join(GROUPS)}"
        )
    return wanted


def select(only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Check]:
    """The checks named by ``only`` (all when empty), without those named by ``skip``; a
    name is a check's id or a group."""
    only_names, skip_names = _names(only), _names(skip)
    return [
        check
        for check in CHECKS
        if (not only_names or {check.id, check.group} & only_names)
        and not {check.id, check.group} & skip_names
    ]


def _aws_refusal(error: Exception) -> Failed:
    if isinstance(error, NoCredentialsError):
        return Failed(
            "no AWS credentials in this process",
            "the deploy role's credentials",
            "run it as make doctor ENV=… does (a Job under the deploy ServiceAccount), or with "
            "AWS credentials of a role that may read the API",
        )
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message") or "no message"
        return Failed(
            f"AWS refused: {code} ({message})",
            "read access to the API, its domain and certificate",
            "the deploy role needs k8s/iam/deploy-policy.json (apigateway:GET on this API and "
            "domain, acm:DescribeCertificate)",
        )
    return Failed(
        f"AWS did not answer ({type(error).__name__}: {error})",
        "an answer from AWS's API endpoints",
        "pods reach 443 (networkPolicy.httpsCidrs) and DNS; AWS_GATEWAY_REGION_NAME names a region",
    )


def _blocked(check: Check, results: dict[str, Finding]) -> Finding | None:
    for name in check.needs:
        needed = results.get(name)
        if needed is not None and needed.status is not Status.PASSED:
            saw = needed.saw if needed.status is Status.NOT_CHECKED else f"needs {needed.title!r}"
            return Finding(check.id, check.title, Status.NOT_CHECKED, saw)
    return None


def run_check(ctx: Context, check: Check, results: dict[str, Finding]) -> Finding:
    blocked = _blocked(check, results)
    if blocked is not None:
        return blocked
    if ctx.emulated and check.group == "aws":
        return Finding(
            check.id,
            check.title,
            Status.NOT_CHECKED,
            "the emulator stands in for API Gateway here (WS_MANAGEMENT_ENDPOINT_URL): "
            "make doctor ENV=… checks AWS",
        )
    try:
        saw = check.run(ctx)
    except NotChecked as reason:
        return Finding(check.id, check.title, Status.NOT_CHECKED, str(reason))
    except Failed as failure:
        return Finding(
            check.id, check.title, Status.FAILED, failure.saw, failure.expected, failure.fix
        )
    except (ClientError, BotoCoreError) as error:
        failure = _aws_refusal(error)
        return Finding(
            check.id, check.title, Status.FAILED, failure.saw, failure.expected, failure.fix
        )
    return Finding(check.id, check.title, Status.PASSED, saw)


def run_checks(ctx: Context, checks: Iterable[Check]) -> list[Finding]:
    results: dict[str, Finding] = {}
    for check in checks:
        results[check.id] = run_check(ctx, check, results)
    return list(results.values())
