"""The rate all fan-outs of all replicas share (realtime.broadcasts.rate), against real
PostgreSQL: its arithmetic against a plain token bucket, two reservers at once, and every post
of a fan-out, retries included, coming out of it. No timing: the reservations' own times."""

import threading
import uuid
from collections import Counter

import pytest
from django.db import connections
from django_aws_api_gateway_websockets.models import WebSocketSession
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime.broadcasts import rate
from realtime.broadcasts.fanout import claim, deliver
from realtime.broadcasts.models import Broadcast

EPSILON = 1e-6


class ReferenceBucket:
    """A token bucket as AWS describes its throttle: ``rate`` tokens a second into a bucket of
    ``burst``; a reservation of ``n`` starts when the bucket holds ``n`` (it may go into debt,
    which later reservations wait out)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = burst, None

    def reserve(self, now: float, n: int) -> float:
        if self.updated is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        starts_at = now + max(0.0, n - self.tokens) / self.rate
        self.tokens -= n
        return starts_at


def assert_never_over(reservations: list[rate.Reservation], per_second: float, burst: float):
    """In every interval between two starts, at most rate * its length + burst tokens start."""
    ordered = sorted(reservations, key=lambda r: r.starts_at)
    for first, opening in enumerate(ordered):
        taken = 0
        for closing in ordered[first:]:
            taken += closing.tokens
            allowed = per_second * (closing.starts_at - opening.starts_at) + burst
            assert taken <= allowed + EPSILON * per_second, (opening, closing, taken, allowed)


requests = st.lists(
    st.tuples(st.floats(min_value=0, max_value=0.5), st.integers(min_value=1, max_value=64)),
    min_size=1,
    max_size=40,
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    per_second=st.floats(min_value=10, max_value=10_000),
    burst=st.integers(min_value=1, max_value=64),
    calls=requests,
)
def test_reservations_are_a_token_bucket(per_second, burst, calls):
    """Each reservation starts exactly when a token bucket of the same rate and burst would
    hold its tokens: never sooner (the rate is not exceeded), never later (nor undershot)."""
    name, reference, now = uuid.uuid4().hex[:32], ReferenceBucket(per_second, burst), 1000.0
    made = []
    for gap, wanted in calls:
        now += gap
        tokens = min(wanted, burst)  # a fan-out reserves at most a chunk, the bucket's size
        reservation = rate.reserve(tokens, per_second, burst, now=now, name=name)
        assert reservation.starts_at == pytest.approx(reference.reserve(now, tokens), abs=EPSILON)
        assert reservation.starts_at >= now
        made.append(reservation)
    assert_never_over(made, per_second, burst)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reservers_never_get_more_than_the_rate_and_the_burst():
    """Two threads, each with its own connection, reserve chunks at once from one bucket on
    the server's clock: every token is given out once, and no interval holds more than
    rate * its length + burst."""
    per_second, burst, chunk, chunks = 5000.0, 32.0, 32, 60
    name = uuid.uuid4().hex[:32]
    made: list[rate.Reservation] = []
    lock, start = threading.Lock(), threading.Barrier(2)

    def reserver() -> None:
        try:
            start.wait()
            for _ in range(chunks):
                reservation = rate.reserve(chunk, per_second, burst, name=name)
                with lock:
                    made.append(reservation)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reserver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.tokens for r in made) == 2 * chunks * chunk
    assert_never_over(made, per_second, burst)
    # Reserved faster than the rate, the bucket is never idle: after the first chunk (from the
    # full bucket) each starts the moment the rate allows, neither sooner nor later.
    first_start = min(r.starts_at for r in made)
    last_start = max(r.starts_at for r in made)
    expected = first_start + (2 * chunks * chunk - burst) / per_second
    # Epoch seconds in float8 round to about 0.2 µs; 120 additions stay well within 0.1 ms.
    assert last_start == pytest.approx(expected, abs=1e-4)


@pytest.mark.django_db(transaction=True)
def test_every_post_of_a_fan_out_retries_included_takes_its_tokens(
    api_gateway, channels, management_api, settings, monkeypatch
):
    settings.BROADCAST_CONCURRENCY = 4
    ids = [f"rated{number:03d}=" for number in range(10)]
    for connection_id in ids:
        WebSocketSession.objects.create(
            connection_id=connection_id, channel_name="lobby", api_gateway=api_gateway
        )
    management_api.open_connections.update(ids)
    # Five 500s outlast one post's 3 attempts: the chunk has a second round for this one.
    management_api.fail_next[ids[5]] = 5
    reserved: list[int] = []
    real_reserve = rate.reserve

    def recording_reserve(tokens, *args, **kwargs):
        reserved.append(tokens)
        return real_reserve(tokens, *args, **kwargs)

    monkeypatch.setattr(rate, "reserve", recording_reserve)
    broadcast = Broadcast.objects.create(channel_name="lobby", payload={"type": "broadcast"})
    outcomes = deliver(claim(broadcast.pk))
    assert outcomes["sent"] == 10
    assert reserved == [4, 4, 1, 2]  # three chunks, and the retry round of one post
    assert Counter(management_api.attempts.values())[6] == 1
