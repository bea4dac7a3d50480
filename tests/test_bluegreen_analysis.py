"""The blue/green drill's phase checks (drill/bluegreen/analysis.py), on recorded pings."""

from drill.bluegreen.analysis import Switch, _switches
from drill.clients import Client, Ping
from drill.findings import Findings

SWITCHES = [Switch("green", 100.0), Switch("blue", 110.0)]


def client_with(pings: list[tuple[str, float, float]]) -> Client:
    client = Client(name="c1", socket=None)  # type: ignore[arg-type] - no socket is read
    client.pings = [Ping(ref, sent, answered) for ref, sent, answered in pings]
    return client


def test_a_ping_in_flight_at_the_rollback_may_be_served_by_the_next_color():
    # Sent 0.2 s before the rollback was written, answered after it, by blue: either color
    # was right for it. Before the fix, phase 1 failed with "answered by the old color".
    client = client_with([("a", 101.0, 101.5), ("b", 105.0, 105.4), ("c", 109.8, 110.6)])
    findings = Findings()
    _switches(findings, [client], SWITCHES, {"a": "green", "b": "green", "c": "blue"})
    assert [f for f in findings.failures if "old color" in f] == []


def test_a_settled_ping_answered_by_the_old_color_after_the_new_still_fails():
    client = client_with([("a", 101.0, 101.5), ("b", 105.0, 105.4), ("c", 107.0, 107.3)])
    findings = Findings()
    _switches(findings, [client], SWITCHES, {"a": "green", "b": "green", "c": "blue"})
    assert any("answered by the old color after green" in f for f in findings.failures)
