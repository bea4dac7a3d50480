import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_aws_api_gateway_websockets.models import ApiGateway

from doctor.context import Context
from doctor.findings import Finding, Status, as_json, summary
from doctor.runner import NEXT_STEP, UnknownCheck, run_checks, select


def _names(value: str) -> list[str]:
    return value.split(",")


class Command(BaseCommand):
    help = (
        "The deployment guide's troubleshooting checklist, read-only: the API, routes, stage, "
        "custom domain, certificate and DNS in AWS, Django's hosts, cookies and URLs, and a "
        "Management API post. One ✓, ✗ or dash line per check; exit status 1 on any ✗."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--pk", type=int, help="the ApiGateway record (default: the only one)")
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.add_argument(
            "--only", type=_names, default=[], help="run only these checks or groups (a,b)"
        )
        parser.add_argument(
            "--skip", type=_names, default=[], help="leave out these checks or groups (a,b)"
        )

    def handle(self, *args, pk: int | None, json: bool, only, skip, **options) -> None:
        try:
            checks = select(only, skip)
        except UnknownCheck as error:
            raise CommandError(str(error), returncode=2) from error
        ctx = Context.for_record(self._record(pk))
        record = ctx.record
        about = {
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
        findings = run_checks(ctx, checks)
        if json:
            self.stdout.write(as_json(findings, about))
        else:
            self._print(ctx, findings)
        if any(finding.status is Status.FAILED for finding in findings):
            sys.exit(1)

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
