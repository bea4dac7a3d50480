"""Each of the package's known gaps (docs/security.md, the table of gaps), closed.

Every test runs twice: against our view, where it must pass, and against the package's
plain view, where it is a strict xfail, so each test is shown to detect its gap.
"""

import contextlib
import json
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_aws_api_gateway_websockets.models import (
    ConnectionRateLimit,
    WebSocketSession,
    WebSocketToken,
)

from realtime import admission
from tests.support import gateway as gw

PLAIN = pytest.param(
    "tests.support.plain_package_urls",
    marks=pytest.mark.xfail(strict=True, reason="the package's plain behaviour has this gap"),
    id="plain-package",
)
OURS = pytest.param("config.urls", id="ours")


@pytest.fixture(params=[OURS, PLAIN])
def urlconf(request, settings):
    settings.ROOT_URLCONF = request.param
    return request.param


@pytest.fixture
def quiet_caller() -> gw.GatewayCaller:
    """Answers 500s instead of raising, as a real server would."""
    return gw.GatewayCaller(Client(raise_request_exception=False))


# Gap 1 ---------------------------------------------------------------------------------
def test_rate_limit_keys_on_the_ip_the_gateway_saw(urlconf, api_gateway, channels, browser, caller):
    """A client-written X-Forwarded-For entry must not become the rate-limit key."""
    response = caller.connect(
        gw.new_connection_id(),
        browser.cookie,
        {"ws_token": browser.token(), "channel": "lobby"},
        source_ip="198.51.100.1, 203.0.113.7",  # forged by the client, then API Gateway's
    )
    assert response.status_code == 200
    assert list(ConnectionRateLimit.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]


# Gap 2 ---------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_concurrent_connects_admit_exactly_the_limit(
    urlconf, api_gateway, channels, browser, settings, monkeypatch
):
    """Connects that all count before any inserts must not all get in.

    A barrier inside the count makes the interleaving certain: every request counts before
    any records its attempt, unless admission serialises them (the barrier then times out).
    The threads take their database connections first and start together, so a slow thread
    start cannot break the barrier by itself (the tests' pool, TEST_POOL_MAX_SIZE, holds
    them all).
    """
    limit, attempts = 2, 6
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "rate_limit_max_attempts": limit}
    ready = threading.Barrier(attempts)
    barrier = threading.Barrier(attempts)

    def then_wait(count):
        """The count (the package's, or admission's) followed by the barrier."""

        def counting_then_waiting(*args, **kwargs):
            result = count(*args, **kwargs)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
            return result

        return counting_then_waiting

    original = ConnectionRateLimit.check_rate_limit.__func__
    monkeypatch.setattr(ConnectionRateLimit, "check_rate_limit", classmethod(then_wait(original)))
    monkeypatch.setattr(admission, "recent_counts", then_wait(admission.recent_counts))
    tokens = [browser.token() for _ in range(attempts)]
    statuses: list[int] = []

    def connect(token: str) -> None:
        caller = gw.GatewayCaller(Client(raise_request_exception=False))
        try:
            connection.ensure_connection()
            ready.wait(timeout=60)
            statuses.append(
                caller.connect(
                    gw.new_connection_id(), browser.cookie, {"ws_token": token, "channel": "lobby"}
                ).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=connect, args=(token,)) for token in tokens]
    connection.close()  # give this thread's connection back to the pool for the others
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * limit + [400] * (attempts - limit)
    assert WebSocketSession.objects.count() == limit


# Gap 3 ---------------------------------------------------------------------------------
def test_channel_name_with_trailing_newline_is_invalid(
    urlconf, api_gateway, channels, browser, caller
):
    response = caller.connect(
        gw.new_connection_id(), browser.cookie, {"ws_token": browser.token(), "channel": "lobby\n"}
    )
    assert (response.status_code, response.content) == (400, b"Invalid channel")
    assert not WebSocketSession.objects.exists()


def test_join_with_trailing_newline_is_invalid(connected, caller):
    connection_id = connected("lobby")
    response = caller.message(
        connection_id, json.dumps({"action": "join", "channel": "announcements\n"})
    )
    assert (response.status_code, response.content) == (400, b"Invalid channel")
    assert WebSocketSession.objects.get(connection_id=connection_id).channel_name == "lobby"


# Gap 4 ---------------------------------------------------------------------------------
def test_repeated_connect_is_not_a_500_and_not_a_second_session(
    urlconf, api_gateway, channels, browser, quiet_caller
):
    connection_id = gw.new_connection_id()
    first = quiet_caller.connect(
        connection_id, browser.cookie, {"ws_token": browser.token(), "channel": "lobby"}
    )
    again = quiet_caller.connect(
        connection_id, browser.cookie, {"ws_token": browser.token(), "channel": "lobby"}
    )
    assert (first.status_code, again.status_code) == (200, 200)
    assert WebSocketSession.objects.filter(connection_id=connection_id).count() == 1


def test_connect_reusing_a_closed_connection_id_is_refused(api_gateway, channels, browser, caller):
    connection_id = gw.new_connection_id()
    caller.connect(connection_id, browser.cookie, {"ws_token": browser.token(), "channel": "lobby"})
    caller.disconnect(connection_id)
    again = caller.connect(
        connection_id, browser.cookie, {"ws_token": browser.token(), "channel": "lobby"}
    )
    assert again.status_code == 409
    assert WebSocketSession.objects.filter(connection_id=connection_id).count() == 1


# Gap 5 ---------------------------------------------------------------------------------
def test_token_is_not_spent_when_the_connect_is_refused(
    urlconf, api_gateway, channels, browser, caller
):
    token = browser.token()
    refused = caller.connect(
        gw.new_connection_id(), browser.cookie, {"ws_token": token, "channel": "staff"}
    )
    assert refused.status_code == 403
    assert not WebSocketToken.objects.get(token=token).used

    accepted = caller.connect(
        gw.new_connection_id(), browser.cookie, {"ws_token": token, "channel": "lobby"}
    )
    assert accepted.status_code == 200


# Gap 6 ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        pytest.param("sweep_stale_sessions", id="ours"),
        pytest.param(
            "clearWebSocketSessions",
            marks=pytest.mark.xfail(strict=True, reason="the package has no sweeper"),
            id="plain-package",
        ),
    ],
)
def test_sessions_past_the_gateway_maximum_are_marked_disconnected(api_gateway, command, capsys):
    old = timezone.now() - timedelta(hours=3)
    stale = WebSocketSession.objects.create(
        connection_id="stale1", channel_name="lobby", api_gateway=api_gateway
    )
    fresh = WebSocketSession.objects.create(
        connection_id="fresh1", channel_name="lobby", api_gateway=api_gateway
    )
    WebSocketSession.objects.filter(pk=stale.pk).update(created_on=old)
    call_command(command)
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.connected, fresh.connected) == (False, True)


# Gap 7 ---------------------------------------------------------------------------------
def test_bad_host_answer_does_not_echo_allowed_hosts(
    urlconf, api_gateway, channels, browser, caller, settings
):
    """A Host Django accepts (port stripped) but the package's exact comparison refuses."""
    settings.ALLOWED_HOSTS = ["localhost", "internal-only.example.com"]
    headers = gw.connect_headers(gw.new_connection_id(), browser.cookie)
    headers["Host"] = "localhost:9999"
    headers["Origin"] = "http://localhost:9999"
    response = caller.post(f"/ws/connect?ws_token={browser.token()}&channel=lobby", headers)
    assert response.status_code == 400
    assert b"internal-only.example.com" not in response.content
    assert b"AllowedHosts" not in response.content
