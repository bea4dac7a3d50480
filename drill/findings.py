"""What a drill found: its figures, the checks that failed, and its verdict."""

from dataclasses import dataclass, field

from devtools.console import say


@dataclass
class Findings:
    figures: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, failure: str) -> None:
        if not ok:
            self.failures.append(failure)

    def verdict(self) -> int:
        """Print each failed check and PASSED or FAILED; the drill's exit code."""
        for failure in self.failures:
            say(f"FAILED: {failure}")
        say("PASSED" if not self.failures else f"FAILED: {len(self.failures)} checks")
        return 1 if self.failures else 0
