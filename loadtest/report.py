"""The run's verdict: it passes when every request succeeded, at least one ping got its pong,
and no user raised (a bug in a user ends its task without a failed request). Built from
locust's own statistics when locust quits, so its figures are those of locust's final
tables and of its CSV and HTML report."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from loadtest.names import CONNECT, PING, REQUEST_TYPE


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


def verdict_of(entries: Iterable[Any], exceptions: Mapping[Any, Mapping[str, Any]]) -> Verdict:
    """From locust's ``RequestStats.entries.values()`` and ``Runner.exceptions`` (read by
    attribute and key: this module must not import locust, see names.py)."""
    return Verdict(
        tuple(
            Row(
                kind=entry.method,
                name=entry.name,
                requests=entry.num_requests,
                failures=entry.num_failures,
                p50_ms=entry.get_response_time_percentile(0.5) if entry.num_requests else 0,
                p99_ms=entry.get_response_time_percentile(0.99) if entry.num_requests else 0,
            )
            for entry in entries
        ),
        tuple((row["count"], row["msg"]) for row in exceptions.values()),
    )
