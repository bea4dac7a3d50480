"""Each of the package's known gaps (docs/security.md, the table of gaps), closed.

Every test runs twice: against our view, where it must pass, and against the package's
plain view, where it is a strict xfail, so each test is shown to detect its gap.
"""

import json
import threading
import time
from datetime import timedelta

import psycopg
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

from realtime.admission import _lock_key
from tests.conftest import database_url_for_tests
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
    urlconf, api_gateway, channels, browser, settings
):
    """Connects that all arrive before any has recorded its attempt must not all get in.

    The address's admission lock is held from outside while they arrive: every one of them
    must wait for it (none counts early), and once it is released they are admitted one after
    another, exactly the limit. The threads take their database connections first and start
    together (the tests' pool, TEST_POOL_MAX_SIZE, holds them all).
    """
    limit, attempts = 2, 6
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "rate_limit_max_attempts": limit}
    tokens = [browser.token() for _ in range(attempts)]
    ready = threading.Barrier(attempts + 1)
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
    waiting = _run_behind_the_address_lock(threads, ready)
    assert waiting == attempts, "the connects did not wait for the address's admission lock"
    assert sorted(statuses) == [200] * limit + [400] * (attempts - limit)
    assert WebSocketSession.objects.count() == limit


def _run_behind_the_address_lock(threads: list[threading.Thread], ready) -> int:
    """Start the connects while another session holds the client address's admission lock,
    release it once they all wait for it (or time is up), and join them. Returns how many
    waited for it."""
    with psycopg.connect(database_url_for_tests(), autocommit=True) as holder:
        with holder.transaction():
            holder.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key("ip", "203.0.113.7")])
            for thread in threads:
                thread.start()
            ready.wait(timeout=60)
            waiting = _wait_for_lock_waiters(holder, len(threads))
        for thread in threads:
            thread.join()
    return waiting


def _wait_for_lock_waiters(holder, expected: int, seconds: float = 20.0) -> int:
    """How many backends wait for an advisory lock, once ``expected`` do or time is up."""
    deadline = time.monotonic() + seconds
    while True:
        (waiting,) = holder.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' "
            "AND datname = current_database()"
        ).fetchone()
        if waiting >= expected or time.monotonic() > deadline:
            return waiting
        time.sleep(0.05)


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


@pytest.mark.django_db(transaction=True)
def test_a_racing_retry_of_a_connect_that_opened_succeeds_too(api_gateway, channels, browser):
    """API Gateway's retry arrives while the first $connect is still running: both pass the
    duplicate check, the second loses on the unique connection id, and, the first being open,
    it is answered 200 like any retry of an open connection (one session)."""
    connection_id = gw.new_connection_id()
    ready = threading.Barrier(3)
    statuses: list[int] = []

    def connect() -> None:
        caller = gw.GatewayCaller(Client(raise_request_exception=False))
        try:
            connection.ensure_connection()
            ready.wait(timeout=60)
            query = {"ws_token": browser.token(), "channel": "lobby"}
            statuses.append(caller.connect(connection_id, browser.cookie, query).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=connect) for _ in range(2)]
    connection.close()
    waiting = _run_behind_the_address_lock(threads, ready)
    assert waiting == 2, "both connects should have passed the duplicate check"
    assert statuses == [200, 200]
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
