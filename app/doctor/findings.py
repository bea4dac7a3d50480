"""What one check found, and how a report of findings is printed: one ✓, ✗ or dash line per check
with what it saw, what it expected and the fix, or one JSON document."""

import json
from collections import Counter
from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_CHECKED = "not checked"


# The not-checked mark is an en dash, set apart from the hyphens of the text around it.
MARKS = {Status.PASSED: "✓", Status.FAILED: "✗", Status.NOT_CHECKED: "\u2013"}


class NotChecked(Exception):
    """Raised by a check that does not apply here; the message says why."""


class Failed(Exception):
    """Raised by a check that found a fault: what it saw, what it expected, the fix."""

    def __init__(self, saw: str, expected: str, fix: str) -> None:
        super().__init__(saw)
        self.saw = saw
        self.expected = expected
        self.fix = fix


@dataclass(frozen=True)
class Finding:
    check: str
    title: str
    status: Status
    saw: str
    expected: str = ""
    fix: str = ""

    def line(self) -> str:
        """One line: the mark, the title, what was seen; for a fault also the expectation
        and the fix, so a grep for ✗ shows all an operator needs."""
        text = f"{MARKS[self.status]} {self.title:<34} {self.saw}"
        if self.status is Status.FAILED:
            text += f" · expected: {self.expected} · fix: {self.fix}"
        return text


def counts(findings: list[Finding]) -> Counter:
    return Counter(finding.status for finding in findings)


def summary(findings: list[Finding]) -> str:
    tally = counts(findings)
    return (
        f"{tally[Status.PASSED]} passed, {tally[Status.FAILED]} failed, "
        f"{tally[Status.NOT_CHECKED]} not checked"
    )


def as_json(findings: list[Finding], about: dict[str, object]) -> str:
    """The whole report as one JSON document on one line (``--json``), before the summary line
    every command ends with (observability.summary)."""
    document = {
        **about,
        "passed": not counts(findings)[Status.FAILED],
        "summary": summary(findings),
        "checks": [asdict(finding) for finding in findings],
    }
    return json.dumps(document, default=str)
