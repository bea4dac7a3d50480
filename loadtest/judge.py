"""Judges the run inside the locust process: when locust quits, the verdict sets its exit code
(1 when the run failed); printed after locust's final tables, as the run's last word."""

from locust.env import Environment

from devtools.console import say
from loadtest.report import Verdict, verdict_of


class Judge:
    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.verdict: Verdict | None = None
        environment.events.quitting.add_listener(self.judge)
        environment.events.quit.add_listener(self.announce)

    def judge(self, **_) -> None:
        runner = self.environment.runner
        if runner is None:  # locust quit before it started: its own exit code stands
            return
        self.verdict = verdict_of(runner.stats.entries.values(), runner.exceptions)
        self.environment.process_exit_code = 1 if self.verdict.problems else 0

    def announce(self, **_) -> None:
        if self.verdict is None:
            return
        say("Load test result:")
        for line in self.verdict.lines(self.environment.parsed_options.num_users):
            print(f"    {line}")
        if self.verdict.problems:
            say("✗ FAILED: " + "; ".join(self.verdict.problems))
        else:
            say("✓ PASSED: every request succeeded, pings got their pongs")
