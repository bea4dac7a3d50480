"""The run's verdict from locust's own CSV files (``<prefix>_stats.csv`` and
``<prefix>_exceptions.csv``): it passes when every request succeeded, at least one ping got
its pong, and no user raised (a bug in a user ends its task without a failed request)."""

import csv
from dataclasses import dataclass
from pathlib import Path

from loadtest.names import CONNECT, PING, REQUEST_TYPE

AGGREGATED = "Aggregated"


class NoStats(Exception):
    """locust wrote no statistics: it did not start, or ran no user."""


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    requests: int
    failures: int
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Verdict:
    rows: tuple[Row, ...]
    # locust's exceptions table: how many times each message was raised in a user.
    errors: tuple[tuple[int, str], ...] = ()

    def _row(self, kind: str, name: str) -> Row | None:
        return next((r for r in self.rows if r.kind == kind and r.name == name), None)

    @property
    def requests(self) -> int:
        return sum(row.requests for row in self.rows)

    @property
    def failures(self) -> int:
        return sum(row.failures for row in self.rows)

    @property
    def pongs(self) -> int:
        row = self._row(REQUEST_TYPE, PING)
        return row.requests - row.failures if row else 0

    @property
    def problems(self) -> list[str]:
        found = []
        if self.pongs == 0:
            found.append("no ping got its pong")
        if self.failures:
            failed = ", ".join(f"{r.name} {r.failures}" for r in self.rows if r.failures)
            found.append(f"{self.failures} requests failed ({failed})")
        if self.errors:
            count = sum(times for times, _ in self.errors)
            found.append(f"{count} errors in the users, first: {self.errors[0][1]}")
        return found

    def lines(self, users: int) -> list[str]:
        lines = [f"{users} users, {self.requests} requests, {self.failures} failures"]
        for name in (CONNECT, PING):
            row = self._row(REQUEST_TYPE, name)
            if row is None:
                lines.append(f"  {name:<10} none")
            else:
                lines.append(
                    f"  {name:<10} {row.requests} (failed {row.failures}), "
                    f"p50 {row.p50_ms:g} ms, p99 {row.p99_ms:g} ms"
                )
        return lines


def read_verdict(prefix: Path) -> Verdict:
    """The per-request rows of ``<prefix>_stats.csv`` (its Aggregated row left out) and the
    errors of ``<prefix>_exceptions.csv``."""
    rows = _read(prefix, "stats")
    errors = _read(prefix, "exceptions")
    return Verdict(
        tuple(_row(row) for row in rows if row["Name"] != AGGREGATED),
        tuple((int(row["Count"]), row["Message"]) for row in errors),
    )


def _read(prefix: Path, table: str) -> list[dict[str, str]]:
    path = prefix.with_name(f"{prefix.name}_{table}.csv")
    try:
        with path.open(newline="", encoding="utf-8") as file:
            return list(csv.DictReader(file))
    except FileNotFoundError:
        raise NoStats(f"locust wrote no {path.name}: see its output above") from None


def _row(row: dict[str, str]) -> Row:
    return Row(
        kind=row["Type"],
        name=row["Name"],
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        p50_ms=_ms(row["50%"]),
        p99_ms=_ms(row["99%"]),
    )


def _ms(value: str) -> float:
    # locust writes "N/A" for a percentile of a request that never succeeded.
    try:
        return float(value)
    except ValueError:
        return float("nan")
