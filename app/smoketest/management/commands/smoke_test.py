from django.core.management.base import CommandError

from observability.summary import Figures, SummaryCommand
from smoketest.census import census_lines, read_census
from smoketest.config import SmokeConfig
from smoketest.logs import log_source
from smoketest.report import Report
from smoketest.steps import SmokeTest


class Command(SummaryCommand):
    help = (
        "The deployment guide's smoke test: sign in, token, connect, messages both ways, "
        "broadcast, disconnect, cleanup, logs. Configured by SMOKE_* variables "
        "(docs/smoke-test.md)."
    )

    def run(self, **_options) -> Figures:
        try:
            config = SmokeConfig.from_env()
            logs = log_source(config.log_source)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Smoke test against: {config.environment}")
        self.stdout.write(
            f"  web {config.base_url} · websocket {config.ws_url} · user {config.username}"
        )
        database = "used" if config.database_steps else "not used (SMOKE_DATABASE_STEPS is off)"
        self.stdout.write(
            f"  database: {database} · logs: {logs.description if logs else 'none'}\n"
        )
        report = Report(self.stdout)
        smoke = SmokeTest(config, logs)
        try:
            for title, action in smoke.steps():
                report.step(title, action)
        finally:
            smoke.browser.close()
        missing = self.header_census(logs)
        failed = report.failed or missing > 0
        gap = f"; {missing} required headers missing (header census)" if missing else ""
        self.stdout.write(f"\n{'FAILED' if failed else 'PASSED'}: {report.summary()}{gap}")
        return {**report.counts(), "headers_missing": missing}

    def header_census(self, logs) -> int:
        """Print what API Gateway sent on each route beside what Django requires, even after
        a failed step (a missing header fails the connect); the required headers missing."""
        records, source = read_census(logs)
        self.stdout.write(f"\nHeader census, {source}:")
        for line in census_lines(records):
            self.stdout.write(line)
        return sum(len(record.missing) for record in records)

    def succeeded(self, figures: Figures) -> bool:
        return figures["failed"] == 0 and figures["headers_missing"] == 0
