"""The chaos drill's verdicts (drill/chaos/analysis.py, probes.py): what counts as a lost
broadcast, an allowed duplicate, a pod the kubelet would restart. The drill's pass/fail rests
on these, so they are pinned here on records made by hand."""

from drill.chaos.analysis import _delivery
from drill.chaos.database import BroadcastRow
from drill.chaos.members import Member
from drill.chaos.probes import Probe, Prober
from drill.clients import Client


def member(name: str, *connections: tuple[float, float | None, int]) -> Member:
    """A member with one connection per (opened_at, closed_at, copies of "hello")."""
    found = Member(name, pinging=True)
    for opened, closed, copies in connections:
        client = Client(name, socket=None, opened_at=opened, closed_at=closed)
        client.copies["hello"] = copies
        found.sessions.append(client)
    return found


def row(finished_at: float | None = 20.0, attempts: int = 1) -> BroadcastRow:
    return BroadcastRow(1, "hello", "done", attempts, 0, 0, 10.0, finished_at, "")


def deliver(members: list[Member], broadcast: BroadcastRow, ended: float = 100.0):
    received = [(m, m.copies(), m.most_copies()) for m in members]
    return _delivery(broadcast, received, chunk=32, ended=ended)


def test_a_client_connected_for_the_whole_fan_out_without_the_frame_lost_it():
    missing, duplicated, allowed = deliver(
        [member("kept", (0, None, 0)), member("served", (0, None, 1))], row()
    )
    assert (missing, duplicated, allowed) == (["kept"], 0, 0)


def test_a_client_that_connected_or_left_during_the_fan_out_is_not_owed_it():
    joined_late = member("late", (15, None, 0))
    left_early = member("early", (0, 12, 0))
    assert deliver([joined_late, left_early], row())[0] == []


def test_a_broadcast_never_finished_is_lost_to_everyone_connected_until_the_end():
    assert deliver([member("kept", (0, 100, 0))], row(finished_at=None))[0] == ["kept"]


def test_copies_on_two_connections_of_one_client_are_no_duplicate():
    reconnected = member("twice", (0, 15, 1), (15, None, 1))
    assert deliver([reconnected], row())[1] == 0


def test_two_copies_on_one_connection_are_a_duplicate_allowed_only_after_a_takeover():
    doubled = member("doubled", (0, None, 2))
    assert deliver([doubled], row())[1:] == (1, 0)
    assert deliver([doubled], row(attempts=2))[1:] == (1, 32)


def test_liveness_failing_three_times_in_a_row_would_restart_the_pod():
    prober = Prober({"web1": {"http": 1, "ops": 2}})
    results = [True, False, False, True, False, False, False]
    prober.results = [Probe("web1", "live", float(t), ok) for t, ok in enumerate(results)]
    assert not prober.would_restart("web1", 0, 4)
    assert prober.would_restart("web1", 0, 10)
