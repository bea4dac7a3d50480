"""Caps on what one account or one connection may do, held across replicas.

Open connections per user, messages per connection (a token bucket), broadcasts per user
per minute: each refusal is a 4xx (a refused handshake, or an error frame) with a named log
event, never a 5xx. The across-processes tests run gunicorn with three workers, since a
connection's callbacks land on any replica.
"""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import requests
from django.test import Client
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession

from realtime.broadcasts.models import Broadcast
from realtime.models import MessageBudget
from tests.conftest import Browser, start_gunicorn
from tests.support import gateway as gw
from tests.support.live_server import concurrently


def ping(caller, connection_id: str):
    return caller.message(connection_id, json.dumps({"action": "ping"}))


# --- open connections per user ----------------------------------------------------------------


def test_a_user_holds_at_most_the_cap_of_open_connections(
    connected, caller, browser, settings, log_events
):
    settings.WS_MAX_CONNECTIONS_PER_USER = 3
    opened = [connected("lobby") for _ in range(3)]
    refused = caller.connect(
        gw.new_connection_id(), browser.cookie, {"ws_token": browser.token(), "channel": "lobby"}
    )
    assert (refused.status_code, refused.content) == (400, b"Too many connections")
    assert "ws.connect.connection_limit" in log_events()

    assert caller.disconnect(opened[0]).status_code == 200
    assert connected("lobby")  # room again once one has closed


# --- messages per connection ------------------------------------------------------------------


def test_messages_beyond_the_burst_are_refused_with_one_error_frame(
    connected, caller, management_api, settings, log_events
):
    settings.WS_MESSAGE_BURST = 5
    settings.WS_MESSAGES_PER_SECOND = 0.001  # no refill within the test
    connection_id = connected("lobby")
    statuses = [ping(caller, connection_id).status_code for _ in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    frames = management_api.received(connection_id)
    assert [f["type"] for f in frames].count("pong") == 5
    assert [f.get("error") for f in frames if f["type"] == "error"] == ["rate limited"]
    assert log_events().count("ws.message.rate_limited") == 3


def test_a_connection_that_stops_flooding_gets_its_budget_back(connected, caller, settings):
    settings.WS_MESSAGE_BURST = 2
    settings.WS_MESSAGES_PER_SECOND = 1.0
    connection_id = connected("lobby")
    session = WebSocketSession.objects.get(connection_id=connection_id)
    assert [ping(caller, connection_id).status_code for _ in range(3)] == [200, 200, 429]
    # Ten quiet seconds later (moved back in the database instead of waiting).
    MessageBudget.objects.filter(session_id=session.pk).update(
        updated_at=timezone.now() - timedelta(seconds=10)
    )
    assert [ping(caller, connection_id).status_code for _ in range(3)] == [200, 200, 429]


# --- broadcasts per user ----------------------------------------------------------------------


def test_broadcasts_beyond_the_rate_are_refused_and_not_queued(
    connected, caller, management_api, broadcaster, settings, log_events
):
    settings.WS_BROADCASTS_PER_MINUTE = 2
    sender = connected("announcements", Browser(Client(), broadcaster))
    body = json.dumps({"action": "broadcast", "channel": "announcements", "text": "hi"})
    statuses = [caller.message(sender, body).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert Broadcast.objects.count() == 2
    assert "rate limited" in [f.get("error") for f in management_api.received(sender)]
    assert "ws.broadcast.rate_limited" in log_events()


# --- across processes -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped_server(django_db_setup, django_db_blocker, session_management_api, tmp_path_factory):
    server = start_gunicorn(
        django_db_blocker,
        tmp_path_factory,
        WS_MANAGEMENT_ENDPOINT_URL=session_management_api.url,
        WS_RATE_LIMIT_MAX_ATTEMPTS="100",
        WS_MAX_CONNECTIONS_PER_USER="3",
        WS_MESSAGE_BURST="5",
        WS_MESSAGES_PER_SECOND="0.001",
    )
    yield server
    server.stop()


def post_connect(server, browser: Browser, token: str, connection_id: str) -> int:
    query = urlencode({"ws_token": token, "channel": "lobby"})
    headers = gw.connect_headers(connection_id, browser.cookie)
    return requests.post(
        f"{server.url}/ws/connect?{query}", headers=headers, data=b"", timeout=30
    ).status_code


@pytest.mark.django_db(transaction=True)
def test_concurrent_connects_of_one_user_open_exactly_the_cap(
    capped_server, api_gateway, channels, browser
):
    tokens = [browser.token() for _ in range(12)]
    statuses = concurrently(
        [
            lambda token=token: post_connect(capped_server, browser, token, gw.new_connection_id())
            for token in tokens
        ]
    )
    assert sorted(statuses) == [200] * 3 + [400] * 9, statuses
    assert WebSocketSession.objects.filter(user=browser.user, connected=True).count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_messages_of_one_connection_spend_one_budget(
    capped_server, api_gateway, channels, browser, session_management_api
):
    connection_id = gw.new_connection_id()
    session_management_api.open_connections.add(connection_id)
    assert post_connect(capped_server, browser, browser.token(), connection_id) == 200

    def send_ping() -> int:
        return requests.post(
            f"{capped_server.url}/ws/default",
            headers=gw.callback_headers(connection_id),
            data=json.dumps({"action": "ping"}),
            timeout=30,
        ).status_code

    statuses = concurrently([send_ping] * 12)
    assert sorted(statuses) == [200] * 5 + [429] * 7, statuses
