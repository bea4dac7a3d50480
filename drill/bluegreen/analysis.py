"""What the drill measured, from the clients' records and the containers' JSON logs.

Which color answered a ping: every `$default` call is one `http.request` line in the log of
the color that served it, with the connection id. A client keeps one ping in flight, so its
calls, ordered by when each began, are its pings in the order sent.
"""

from dataclasses import dataclass

from drill.clients import Client, Ping
from drill.findings import Findings
from drill.stack import event_time

COLORS = ("blue", "green")


@dataclass(frozen=True)
class Switch:
    to: str
    written_at: float  # wall clock, when the new upstream file was in place


@dataclass(frozen=True)
class Call:
    color: str
    started_at: float


def default_calls(logs: dict[str, list[dict]]) -> dict[str, list[Call]]:
    """Connection id -> its `$default` calls on either color, in the order they began."""
    calls: dict[str, list[Call]] = {}
    for color in COLORS:
        for event in logs[color]:
            if event.get("event") == "http.request" and event.get("path") == "/ws/default":
                began = event_time(event) - event.get("duration_ms", 0) / 1000
                calls.setdefault(event.get("connection_id") or "", []).append(Call(color, began))
    return {cid: sorted(found, key=lambda c: c.started_at) for cid, found in calls.items()}


def attribute(clients: list[Client], calls: dict[str, list[Call]]) -> dict[str, str]:
    """Ping ref -> the color that answered it, for clients whose calls match their pings."""
    colors = {}
    for client in clients:
        served = calls.get(client.connection_id, [])
        if len(served) == len(client.pings):
            colors.update({p.ref: c.color for p, c in zip(client.pings, served, strict=True)})
    return colors


def phase_of(ping: Ping, switches: list[Switch]) -> int:
    """0 before the first switch, n after the n-th."""
    return sum(ping.sent_at >= s.written_at for s in switches)


def analyse(
    clients: list[Client],
    broadcaster: Client,
    switches: list[Switch],
    broadcasts: list[str],
    logs: dict[str, list[dict]],
) -> Findings:
    findings = Findings()
    colors = attribute(clients, default_calls(logs))
    _connections_and_messages(findings, clients, broadcaster, colors)
    _server_errors(findings, logs)
    _switches(findings, clients, switches, colors)
    _broadcasts(findings, [*clients, broadcaster], broadcasts)
    return findings


def _connections_and_messages(
    findings: Findings, clients: list[Client], broadcaster: Client, colors: dict[str, str]
) -> None:
    everyone = [*clients, broadcaster]
    pings = [p for c in clients for p in c.pings]
    answered = [p for p in pings if p.answered_at is not None]
    latencies = sorted(p.answered_at - p.sent_at for p in answered)
    dropped = [f"{c.name}: {c.dropped}" for c in everyone if c.dropped]
    unmatched = [c.name for c in clients if not all(p.ref in colors for p in c.pings)]
    findings.figures.update(
        connections=len(everyone),
        connections_dropped=len(dropped),
        messages_sent=len(pings),
        messages_answered=len(answered),
        messages_lost=len(pings) - len(answered),
        error_frames=sum(len(c.errors) for c in everyone),
        answer_ms_median=round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        answer_ms_max=round(1000 * latencies[-1], 1) if latencies else None,
    )
    findings.check(not dropped, f"connections dropped: {dropped}")
    findings.check(len(answered) == len(pings), f"{len(pings) - len(answered)} pings unanswered")
    findings.check(not findings.figures["error_frames"], "error frames received")
    findings.check(
        not unmatched, f"calls in the web logs do not match the pings of {unmatched[:5]}"
    )


def _server_errors(findings: Findings, logs: dict[str, list[dict]]) -> None:
    web_5xx = {
        color: sum(
            1
            for e in logs[color]
            if e.get("event") == "http.request" and int(e.get("status", 0)) >= 500
        )
        for color in COLORS
    }
    emulator = logs["emulator"]
    gateway_5xx = sum(
        1
        for e in emulator
        if e.get("event") == "emulator.integration.call" and int(e.get("status", 0)) >= 500
    )
    integration_errors = sum(1 for e in emulator if e.get("event") == "emulator.integration.error")
    refused = sum(1 for e in emulator if e.get("event") == "emulator.connect.refused")
    findings.figures.update(
        http_5xx_blue=web_5xx["blue"],
        http_5xx_green=web_5xx["green"],
        gateway_5xx=gateway_5xx,
        integration_errors=integration_errors,
        connects_refused=refused,
    )
    total = sum(web_5xx.values()) + gateway_5xx + integration_errors + refused
    findings.check(total == 0, f"5xx answers or integration errors: {findings.figures}")


def _switches(
    findings: Findings, clients: list[Client], switches: list[Switch], colors: dict[str, str]
) -> None:
    phases = []
    for number in range(len(switches) + 1):
        new = switches[number - 1].to if number else "blue"
        sequences = {
            c.name: [colors.get(p.ref) for p in c.pings if phase_of(p, switches) == number]
            for c in clients
        }
        phases.append(_phase(findings, number, new, sequences))
        if number:
            switched = [p for c in clients for p in c.pings if phase_of(p, switches) == number]
            phases[-1].update(_switch_times(switched, switches[number - 1], new, colors))
    findings.figures["phases"] = phases


def _phase(findings: Findings, number: int, new: str, sequences: dict[str, list]) -> dict:
    """After a switch, each client's answers come from the old color, then only the new one:
    never the old again once the new has answered, and the new one answers in the end."""
    counts = {c: sum(seq.count(c) for seq in sequences.values()) for c in COLORS}
    for name, sequence in sequences.items():
        first_new = sequence.index(new) if new in sequence else len(sequence)
        findings.check(
            bool(sequence) and first_new < len(sequence),
            f"phase {number}: {name} got no answer from {new}",
        )
        findings.check(
            all(color == new for color in sequence[first_new:]),
            f"phase {number}: {name} was answered by the old color after {new}: {sequence}",
        )
        if number == 0:
            findings.check(set(sequence) == {"blue"}, f"before the switch {name}: {sequence}")
    return {"phase": number, "live": new, "answers_by_color": counts}


def _switch_times(pings: list[Ping], switch: Switch, new: str, colors: dict[str, str]) -> dict:
    """Seconds from writing the file to the first answer from the new color, and to the
    last answer from the old one, over the pings sent between this switch and the next."""
    after = [p for p in pings if p.answered_at is not None and p.ref in colors]
    first_new = min((p.answered_at for p in after if colors[p.ref] == new), default=None)
    last_old = max((p.answered_at for p in after if colors[p.ref] != new), default=None)
    return {
        "switch_to": new,
        "s_to_first_answer_from_new": _since(first_new, switch.written_at),
        "s_to_last_answer_from_old": _since(last_old, switch.written_at) or 0.0,
    }


def _since(moment: float | None, start: float) -> float | None:
    return None if moment is None else round(moment - start, 3)


def _broadcasts(findings: Findings, everyone: list[Client], broadcasts: list[str]) -> None:
    reach = []
    for text in broadcasts:
        frames = [c.broadcasts[text] for c in everyone if text in c.broadcasts]
        versions = sorted({f.get("v") for f in frames})
        reach.append(
            {
                "reached": len(frames),
                "of": len(everyone),
                # The release's version: v1 frames come from blue, v2 (with sent_at) from green.
                "served_by": ["blue" if v == 1 else "green" for v in versions],
            }
        )
        findings.check(
            len(frames) == len(everyone), f"broadcast reached {len(frames)} of {len(everyone)}"
        )
    findings.figures["broadcasts"] = reach
