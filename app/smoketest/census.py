"""The header census in the smoke test's output: per route, the header names API Gateway's
calls carried (the web processes' ``ws.headers.census`` lines, realtime.census) beside what
Django requires there, so the first run against a real stage shows any gap.

Each process logs a route once, at its first call, which may be long before this run: the
whole log is read, not only the lines since the test began. docs/deployment.md says what to
do when a required header is missing.
"""

import json
from dataclasses import dataclass

from smoketest.logs import LogSource

CENSUS_EVENT = "ws.headers.census"
# The routes in the order a connection uses them; other routes follow, sorted.
ROUTE_ORDER = ("connect", "default", "disconnect")


@dataclass(frozen=True)
class RouteCensus:
    route: str
    names: tuple[str, ...]
    required: tuple[str, ...]
    missing: tuple[str, ...]


def census_records(lines: list[str]) -> list[RouteCensus]:
    """The distinct census records in ``lines`` (every process reports the same routes)."""
    found: set[RouteCensus] = set()
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("event") != CENSUS_EVENT:
            continue
        found.add(
            RouteCensus(
                route=str(record.get("route", "")),
                names=tuple(record.get("names") or ()),
                required=tuple(record.get("required") or ()),
                missing=tuple(record.get("missing") or ()),
            )
        )
    order = {route: index for index, route in enumerate(ROUTE_ORDER)}
    return sorted(found, key=lambda c: (order.get(c.route, len(order)), c.route, c.names))


def census_lines(records: list[RouteCensus]) -> list[str]:
    """What the command prints: each route's names, required and missing headers."""
    lines = []
    for record in records:
        missing = ", ".join(record.missing)
        lines += [
            f"  {record.route}",
            f"    received: {', '.join(record.names)}",
            f"    required: {', '.join(record.required)}",
            f"    {'✗ missing: ' + missing if missing else '✓ missing: none'}",
        ]
    return lines


def read_census(logs: LogSource | None) -> tuple[list[RouteCensus], str]:
    """The census records and a line saying where they came from (or why there are none)."""
    if logs is None:
        return [], "not read: no log source (SMOKE_LOG_SOURCE)"
    records = census_records(logs.lines_since(0))
    if not records:
        return [], f"no {CENSUS_EVENT} line in {logs.description} (JSON logs, LOG_FORMAT=json)"
    return records, f"from {logs.description}"
