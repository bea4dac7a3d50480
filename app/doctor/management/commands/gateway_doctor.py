from django.conf import settings
from django.core.management.base import CommandError
from django_aws_api_gateway_websockets.models import ApiGateway

from doctor.context import Context
from doctor.findings import Finding, Status, as_json, counts, summary
from doctor.runner import NEXT_STEP, UnknownCheck, run_checks, select
from observability.summary import Figures, SummaryCommand


def _names(value: str) -> list[str]:
    return value.split(",")


class Command(SummaryCommand):
    help = (
        "The deployment guide's troubleshooting checklist, read-only: the API, routes, stage, "
        "custom domain, certificate and DNS in AWS, Django's hosts, cookies and URLs, and a "
        "Management API post. One ✓, ✗ or dash line per check; exit status 1 on any ✗ "
        "(docs/troubleshooting.md)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--pk", type=int, help="the ApiGateway record (default: the only one)")
        parser.add_argument("--json", action="store_true", help="print the report as one JSON line")
        parser.add_argument(
            "--only", type=_names, default=[], help="run only these checks or groups (a,b)"
        )
        parser.add_argument(
            "--skip", type=_names, default=[], help="leave out these checks or groups (a,b)"
        )

    def run(self, *, pk: int | None, json: bool, only, skip, **_options) -> Figures:
        try:
            checks = select(only, skip)
        except UnknownCheck as error:
            raise CommandError(str(error), returncode=2) from error
        ctx = Context.for_record(self._record(pk))
        findings = run_checks(ctx, checks)
        if json:
            self.stdout.write(as_json(findings, self._about(ctx)))
        else:
            self._print(ctx, findings)
        tally = counts(findings)
        return {
            "api_gateway": ctx.record.pk,
            "passed": tally[Status.PASSED],
            "failed": tally[Status.FAILED],
            "not_checked": tally[Status.NOT_CHECKED],
        }

    def succeeded(self, figures: Figures) -> bool:
        return figures["failed"] == 0

    def _record(self, pk: int | None) -> ApiGateway:
        if pk is not None:
            try:
                return ApiGateway.objects.get(pk=pk)
            except ApiGateway.DoesNotExist:
                raise CommandError(f"no ApiGateway with pk {pk}", returncode=2) from None
        records = list(ApiGateway.objects.order_by("pk")[:10])
        if len(records) != 1:
            listed = ", ".join(f"{r.pk} ({r.api_name})" for r in records) or "none"
            raise CommandError(
                f"name the ApiGateway record with --pk: the database has {listed}", returncode=2
            )
        return records[0]

    def _about(self, ctx: Context) -> dict[str, object]:
        record = ctx.record
        return {
            "gateway": {
                "pk": record.pk,
                "api_name": record.api_name,
                "api_id": record.api_id,
                "stage": record.stage_name,
                "region": ctx.region,
                "against": "emulator" if ctx.emulated else "aws",
            },
            "next_step": NEXT_STEP,
        }

    def _print(self, ctx: Context, findings: list[Finding]) -> None:
        record = ctx.record
        against = (
            f"the emulator at {settings.WS_MANAGEMENT_ENDPOINT_URL}" if ctx.emulated else "AWS"
        )
        self.stdout.write(
            f"gateway_doctor: ApiGateway {record.pk} ({record.api_name}), API "
            f"{record.api_id or '-'}, stage {record.stage_name}, region {ctx.region}, against "
            f"{against}. Read-only: nothing in AWS or the database changes.\n"
        )
        for finding in findings:
            self.stdout.write(finding.line())
        failed = any(finding.status is Status.FAILED for finding in findings)
        self.stdout.write(f"\n{'FAILED' if failed else 'PASSED'}: {summary(findings)}")
        self.stdout.write(f"Next: {NEXT_STEP}")
