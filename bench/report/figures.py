"""Every figure of a run, one value per repetition, under a dotted name
(``connect.2.p99``, ``fanout.ours.10000.seconds``...), plus the run's description."""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.load.stats import Spread
from devtools.console import say


@dataclass
class Figures:
    values: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # What ran where: machine, versions, settings, plan.
    context: dict[str, str] = field(default_factory=dict)
    # Broken expectations (failed operations, missing frames): the run is not valid.
    problems: list[str] = field(default_factory=list)

    def add(self, name: str, value: float) -> None:
        self.values[name].append(value)

    def spread(self, name: str) -> Spread:
        return Spread.of(self.values[name])

    def median(self, name: str) -> float:
        return self.spread(name).median

    def has(self, name: str) -> bool:
        return bool(self.values.get(name))

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)
            say(f"PROBLEM: {problem}")

    @classmethod
    def load(cls, path: Path) -> "Figures":
        saved = json.loads(path.read_text())
        figures = cls(context=saved["context"], problems=saved["problems"])
        for name, values in saved["values"].items():
            figures.values[name].extend(values)
        return figures

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {"context": self.context, "values": self.values, "problems": self.problems},
                indent=1,
            )
        )
