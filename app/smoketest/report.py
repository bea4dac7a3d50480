"""Numbered steps, each printed with ✓ or ✗ and its time, then a summary line for people
(and the command's JSON summary line, observability.summary, for programs).

A failed step stops the run: later steps depend on its state, and their errors would only
hide the first cause. Steps that need something this environment lacks (the database,
a log source) are reported as not run, with the reason.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO


class NotRun(Exception):
    """Raised by a step that cannot run here; the message says why."""


@dataclass
class StepResult:
    number: int
    title: str
    status: str  # "passed", "failed" or "not run"
    seconds: float
    detail: str


MARKS = {"passed": "✓", "failed": "✗", "not run": "-"}


class Report:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.results: list[StepResult] = []

    @property
    def failed(self) -> bool:
        return any(result.status == "failed" for result in self.results)

    def step(self, title: str, action: Callable[[], Any]) -> Any:
        number = len(self.results) + 1
        if self.failed:
            return self._record(number, title, "not run", 0.0, "an earlier step failed")
        started = time.monotonic()
        try:
            detail = action()
        except NotRun as reason:
            return self._record(number, title, "not run", time.monotonic() - started, str(reason))
        except Exception as error:  # every failure is reported, never raised
            detail = f"{type(error).__name__}: {error}"
            return self._record(number, title, "failed", time.monotonic() - started, detail)
        return self._record(number, title, "passed", time.monotonic() - started, detail or "")

    def _record(self, number: int, title: str, status: str, seconds: float, detail: str) -> None:
        result = StepResult(number, title, status, seconds, detail)
        self.results.append(result)
        self.out.write(f"{MARKS[status]} {number:>2}. {title:<48} {seconds:6.2f} s  {detail}\n")
        self.out.flush()

    def counts(self) -> dict[str, int]:
        """Steps per status, for the summary line: passed, failed, not_run."""
        counts = dict.fromkeys(MARKS, 0)
        for result in self.results:
            counts[result.status] += 1
        return {status.replace(" ", "_"): count for status, count in counts.items()}

    def summary(self) -> str:
        counts = self.counts()
        total = sum(result.seconds for result in self.results)
        return (
            f"{counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['not_run']} not run in {total:.2f} s"
        )
