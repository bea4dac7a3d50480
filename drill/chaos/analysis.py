"""The chaos drill's figures, per fault and outside the faults, from the clients' records, the
broadcasts table and the containers' JSON logs; and the checks the drill must pass.

A fault's window runs from its start until every pinging client has been answered again
(its recovery); "during" is the fault itself, "after" the recovery.
"""

from collections import Counter
from dataclasses import dataclass

from drill.chaos.database import BroadcastRow
from drill.chaos.faults import Drill, Window
from drill.chaos.members import Member, Sent
from drill.chaos.probes import Prober
from drill.findings import Findings
from drill.stack import event_time

# A database outage must not restart a pod (liveness has no database check).
DATABASE_FAULTS = ("postgres-restart", "postgres-lock-on-sessions")


@dataclass
class FaultRun:
    window: Window
    recovered_at: float | None  # every pinging client answered again
    restarts: dict[str, int]  # service -> restarts by its restart policy during the fault

    @property
    def until(self) -> float:
        """The end of the fault's window: its recovery, or a minute after it if none came."""
        return self.recovered_at or self.window.ended + 60


def analyse(
    runs: list[FaultRun],
    drill: Drill,
    rows: list[BroadcastRow],
    logs: dict[str, list[dict]],
    prober: Prober,
    chunk: int,
) -> Findings:
    findings = Findings()
    members, sent = drill.members, drill.sent
    errors = server_errors(logs)
    received = [(member, member.copies(), member.most_copies()) for member in members]
    deliveries = {row.id: _delivery(row, received, chunk, drill.ended) for row in rows}
    faults = []
    for run in runs:
        inside = lambda at, run=run: run.window.started <= at <= run.until  # noqa: E731
        figures = _fault_figures(run, members, prober)
        figures["broadcasts"] = _broadcast_figures(
            [r for r in rows if inside(r.created_at)], [s for s in sent if inside(s.at)], deliveries
        )
        figures["http_5xx_by_route"] = dict(Counter(route for at, route in errors if inside(at)))
        faults.append(figures)
        _check_fault(findings, run, figures)
    in_any = lambda at: any(r.window.started <= at <= r.until for r in runs)  # noqa: E731
    lost = [p.sent_at for m in members for p in m.pings if p.answered_at is None]
    outside = {
        # Keyed by the quiet spell they fell in, so a figure points at what ran then.
        "http_5xx_by_route": dict(
            Counter(f"{route}, {_spell(at, runs)}" for at, route in errors if not in_any(at))
        ),
        "pings_lost": dict(Counter(_spell(at, runs) for at in lost if not in_any(at))),
        "broadcasts": _broadcast_figures(
            [r for r in rows if not in_any(r.created_at)],
            [s for s in sent if not in_any(s.at)],
            deliveries,
        ),
    }
    findings.figures.update(faults=faults, outside_faults=outside)
    findings.check(
        not outside["http_5xx_by_route"], f"5xx outside the faults: {outside['http_5xx_by_route']}"
    )
    for row in rows:
        missing, duplicated, allowed = deliveries[row.id]
        findings.check(
            not missing,
            f"broadcast {row.text!r}: lost by {len(missing)} connected clients: {missing[:5]}",
        )
        findings.check(
            duplicated <= allowed,
            f"broadcast {row.text!r}: {duplicated} duplicates, the guarantee allows {allowed}",
        )
    return findings


def _spell(at: float, runs: list[FaultRun]) -> str:
    """The quiet spell ``at`` falls in: before the first fault that had not yet begun (which
    includes that fault's setup, such as the big broadcast's listeners connecting)."""
    following = next((run.window.fault for run in runs if at < run.window.started), None)
    return f"before {following}" if following else "after the last fault"


def server_errors(logs: dict[str, list[dict]]) -> list[tuple[float, str]]:
    """(time, route) of every 5xx a web replica answered and every call API Gateway could not
    complete (a 5xx from the integration, or no answer: 502/504 to the client)."""
    found = []
    for service, events in logs.items():
        for event in events:
            name, status = event.get("event"), int(event.get("status") or 0)
            if name == "http.request" and status >= 500:
                found.append((event_time(event), f"{service} {event.get('path')}"))
            elif name == "emulator.integration.call" and status >= 500:
                found.append((event_time(event), f"gateway {event.get('route')} {status}"))
            elif name == "emulator.integration.error":
                found.append((event_time(event), f"gateway {event.get('route')} no answer"))
    return found


def _delivery(
    row: BroadcastRow, received: list[tuple[Member, Counter, Counter]], chunk: int, ended: float
) -> tuple[list[str], int, int]:
    """(the clients connected for the whole fan-out that missed it, connections that got it more
    than once, the duplicates the guarantee allows: the chunk in flight at each takeover).
    A broadcast never finished is missed by every client connected until the drill ended.
    A client that reconnected during a fan-out may get the frame on both connections: the
    guarantee is per connection, so that is no duplicate."""
    end = min(row.finished_at or ended, ended)
    missing, duplicated = [], 0
    for member, copies, most_on_one_connection in received:
        duplicated += most_on_one_connection[row.text] > 1
        if copies[row.text] == 0 and member.connected_throughout(row.created_at, end):
            missing.append(member.name)
    return missing, duplicated, max(0, row.attempts - 1) * chunk


def _broadcast_figures(rows: list[BroadcastRow], sent: list[Sent], deliveries: dict) -> dict:
    accepted = {row.text for row in rows}
    return {
        "sent_by_the_client": sum(s.sent for s in sent),
        "not_sent_no_connection": sum(not s.sent for s in sent),
        "accepted": len(rows),
        "refused_or_lost_on_the_way": sum(s.sent and s.text not in accepted for s in sent),
        "status": dict(Counter(row.status for row in rows)),
        "clients_missing_one": sum(len(deliveries[row.id][0]) for row in rows),
        "connections_with_a_duplicate": sum(deliveries[row.id][1] for row in rows),
        "duplicates_allowed": sum(deliveries[row.id][2] for row in rows),
    }


def _fault_figures(run: FaultRun, members: list[Member], prober: Prober) -> dict:
    window = run.window
    during = lambda at: window.started <= at <= window.ended  # noqa: E731
    after = lambda at: window.ended < at <= run.until  # noqa: E731
    handshakes = [h for m in members for h in m.handshakes]
    pings = [p for m in members for p in m.pings]
    lost_after = [p.sent_at for p in pings if after(p.sent_at) and p.answered_at is None]
    return {
        "fault": window.fault,
        "duration_s": round(window.ended - window.started, 1),
        **window.details,
        "handshakes_failed": {
            "during": sum(not h.ok for h in handshakes if during(h.at)),
            "after": sum(not h.ok for h in handshakes if after(h.at)),
        },
        "handshakes_ok": sum(h.ok for h in handshakes if during(h.at) or after(h.at)),
        "clients_dropped": sum(
            1
            for m in members
            for s in m.sessions
            if s.dropped and s.closed_at is not None and during(s.closed_at)
        ),
        "pings": {
            "during": {
                "sent": sum(1 for p in pings if during(p.sent_at)),
                "lost": sum(p.answered_at is None for p in pings if during(p.sent_at)),
            },
            "after": {
                "sent": sum(1 for p in pings if after(p.sent_at)),
                "lost": sum(p.answered_at is None for p in pings if after(p.sent_at)),
            },
        },
        "s_until_every_client_served": (
            round(run.recovered_at - window.ended, 1) if run.recovered_at else None
        ),
        "s_until_no_ping_lost": round(max(lost_after) - window.ended, 1) if lost_after else 0.0,
        "container_restarts": {s: n for s, n in run.restarts.items() if n},
        "liveness_would_restart": [
            r for r in prober.ports if prober.would_restart(r, window.started, run.until)
        ],
        "liveness_failures": prober.failures("live", window.started, run.until),
        "s_until_ready": {r: prober.ready_again(r, window.ended) for r in prober.ports},
    }


def _check_fault(findings: Findings, run: FaultRun, figures: dict) -> None:
    name = run.window.fault
    findings.check(run.recovered_at is not None, f"{name}: the clients were not all served again")
    expected = {run.window.details.get("killed")} - {None}
    restarted = set(figures["container_restarts"])
    findings.check(restarted <= expected, f"{name}: containers restarted: {sorted(restarted)}")
    if "broadcast_claims" in run.window.details:
        findings.check(
            run.window.details["broadcast_claims"] >= 2,
            f"{name}: the broadcast finished before the kill (no takeover was exercised)",
        )
    if name in DATABASE_FAULTS:
        findings.check(
            not figures["liveness_would_restart"],
            f"{name}: liveness would restart {figures['liveness_would_restart']}",
        )
