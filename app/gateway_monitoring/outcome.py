"""One line per thing the command looks after: already right, changed, or (with --check) would
change."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    subject: str
    # What differs from the plan, empty when it already matches.
    differences: tuple[str, ...] = ()
    applied: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.differences)

    def line(self) -> str:
        if not self.differences:
            return f"    unchanged: {self.subject}"
        verb = "changed" if self.applied else "would change"
        return f"    {verb}: {self.subject} ({'; '.join(self.differences)})"
