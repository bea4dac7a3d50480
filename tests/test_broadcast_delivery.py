"""Broadcast delivery under slow, throttled and dying deliverers (broadcasts/fanout.py).

The guarantee (docs/broadcasts.md): each recipient connected for the whole fan-out gets the
frame once, except that a takeover repeats at most the chunk that was in flight. A fan-out
slower than its lease keeps it; a deliverer that stalls past it is taken over from its last
checkpoint and stops at its next chunk; throttled posts are retried after Retry-After; a
broadcast claimed too often is given up, with its counts.
"""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession
from prometheus_client import REGISTRY

from realtime.broadcasts.fanout import claim, claim_abandoned, deliver
from realtime.broadcasts.models import Broadcast
from realtime.management_api import BACKOFF_CAP_SECONDS, HANDSHAKE_GRACE_SECONDS, backoff_seconds
from tests.emulator.harness import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def recipients(api_gateway, channels, management_api):
    def make(count: int) -> list[str]:
        ids = [f"recipient{number:03d}=" for number in range(count)]
        for connection_id in ids:
            WebSocketSession.objects.create(
                connection_id=connection_id, channel_name="lobby", api_gateway=api_gateway
            )
        management_api.open_connections.update(ids)
        return ids

    return make


def copies(management_api, ids: list[str]) -> Counter:
    return Counter({cid: len(management_api.received(cid)) for cid in ids})


def new_broadcast() -> Broadcast:
    return Broadcast.objects.create(channel_name="lobby", payload={"type": "broadcast"})


def in_thread(function, *args) -> threading.Thread:
    def run() -> None:
        try:
            function(*args)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_backoff_is_jittered_exponential_honours_retry_after_and_is_capped():
    assert backoff_seconds(0, None, draw=lambda: 1.0) == pytest.approx(0.2)
    assert backoff_seconds(3, None, draw=lambda: 1.0) == pytest.approx(1.6)
    assert backoff_seconds(3, None, draw=lambda: 0.25) == pytest.approx(0.4)
    assert backoff_seconds(20, None, draw=lambda: 1.0) == BACKOFF_CAP_SECONDS
    assert backoff_seconds(0, "2", draw=lambda: 0.0) == 2.0
    assert backoff_seconds(0, "600", draw=lambda: 0.0) == BACKOFF_CAP_SECONDS
    assert backoff_seconds(0, "soon", draw=lambda: 0.5) == pytest.approx(0.1)


def test_a_throttled_post_is_retried_and_delivered(recipients, management_api):
    (connection_id,) = recipients(1)
    management_api.throttle_once.add(connection_id)
    throttled = REGISTRY.get_sample_value("wsgateway_management_api_throttled_total") or 0
    outcomes = deliver(claim(new_broadcast().pk))
    assert outcomes["sent"] == 1
    # The 429 is counted though the retry delivered it: the quota was reached.
    assert REGISTRY.get_sample_value("wsgateway_management_api_throttled_total") == throttled + 1
    assert management_api.attempts[connection_id] == 2
    assert copies(management_api, [connection_id]) == {connection_id: 1}


def test_posts_the_api_could_not_take_are_tried_again_until_it_recovers(recipients, management_api):
    """A brownout longer than one post's 3 attempts (here 5 answers of 500) costs time, not
    the frame: the chunk's unavailable posts are tried again in later rounds."""
    ids = recipients(3)
    management_api.fail_next[ids[1]] = 5
    outcomes = deliver(claim(new_broadcast().pk))
    assert copies(management_api, ids) == dict.fromkeys(ids, 1)
    assert (outcomes["sent"], outcomes["failed"]) == (3, 0)
    assert management_api.attempts[ids[1]] == 6


def test_a_410_for_a_connection_still_in_its_handshake_leaves_it_connected(
    recipients, management_api
):
    """API Gateway answers 410 before the $connect integration has returned; only a session
    older than the handshake's grace is marked disconnected on a 410."""
    just_connected, long_gone = recipients(2)
    management_api.open_connections.clear()
    WebSocketSession.objects.filter(connection_id=long_gone).update(
        created_on=timezone.now() - timedelta(seconds=HANDSHAKE_GRACE_SECONDS + 1)
    )
    outcomes = deliver(claim(new_broadcast().pk))  # 410 for both
    assert outcomes["gone"] == 2
    connected = dict(WebSocketSession.objects.values_list("connection_id", "connected"))
    assert (connected[just_connected], connected[long_gone]) == (True, False)


def test_a_fan_out_slower_than_its_lease_keeps_it(recipients, management_api, settings):
    """Twelve posts of 0.3 s, one per chunk, against a 3 s lease: renewed after every chunk,
    so the cron job, polling all along, never takes it and nobody gets a second copy."""
    settings.BROADCAST_LEASE_SECONDS = 3
    settings.BROADCAST_CONCURRENCY = 1
    ids = recipients(12)
    management_api.delay_seconds = 0.3
    broadcast = claim(new_broadcast().pk)
    worker = in_thread(deliver, broadcast)
    taken = []
    while worker.is_alive():
        taken.append(claim_abandoned(timedelta(seconds=0)))
        time.sleep(0.2)
    worker.join()
    assert taken and not any(taken)
    assert set(copies(management_api, ids).values()) == {1}
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.sent) == (Broadcast.Status.DONE, 12)


def test_a_takeover_repeats_at_most_the_chunk_in_flight(recipients, management_api, settings):
    """The first deliverer stalls on its third chunk past its lease; the cron job takes over
    from the checkpoint (after the second chunk) and finishes; the first then loses its lease
    at its next checkpoint and stops."""
    settings.BROADCAST_CONCURRENCY = 2
    ids = recipients(10)
    management_api.slow_connections.add(ids[4])  # the third chunk: ids[4], ids[5]
    broadcast = claim(new_broadcast().pk)
    first = in_thread(deliver, broadcast)
    wait_until(lambda: management_api.attempts[ids[4]] == 1, "the first post of the stall")
    Broadcast.objects.filter(pk=broadcast.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    taken = claim_abandoned(timedelta(seconds=0))
    assert taken is not None and taken.last_session_pk == (
        WebSocketSession.objects.get(connection_id=ids[3]).pk
    )
    second = in_thread(deliver, taken)
    wait_until(lambda: management_api.attempts[ids[4]] == 2, "the takeover's post of it")
    management_api.release.set()
    first.join()
    second.join()

    received = copies(management_api, ids)
    assert all(count >= 1 for count in received.values()), received
    repeated = {cid for cid, count in received.items() if count > 1}
    assert repeated <= {ids[4], ids[5]}  # only the chunk in flight
    assert Broadcast.objects.get(pk=broadcast.pk).status == Broadcast.Status.DONE


def test_a_broadcast_claimed_too_often_is_given_up_with_its_counts(
    recipients, settings, log_events
):
    recipients(1)
    broadcast = new_broadcast()
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status=Broadcast.Status.SENDING,
        attempts=settings.BROADCAST_MAX_ATTEMPTS,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        sent=3,
    )
    assert claim_abandoned(timedelta(seconds=0)) is None
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.sent) == (Broadcast.Status.FAILED, 3)
    assert "broadcast.failed" in log_events()
