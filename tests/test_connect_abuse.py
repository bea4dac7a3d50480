"""The connect rate limit against address rotation, and junk that must cost nothing.

An IPv6 subscriber owns a whole /64: rotating addresses inside it must not escape the limit.
Attempts that fail a check needing no lock (headers, no signed-in session, a malformed
channel) are refused before the admission takes its locks and writes its row.
"""

import ipaddress
import secrets
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketSession

from tests.conftest import Browser
from tests.support import gateway as gw


def address_in(network: str) -> str:
    net = ipaddress.ip_network(network)
    return str(net.network_address + secrets.randbelow(net.num_addresses))


def test_rotating_addresses_inside_one_ipv6_64_share_one_limit(
    api_gateway, channels, caller, django_user_model, settings
):
    """Each attempt comes from its own user, so only the address can limit them."""
    limit, attempts = 5, 25
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "rate_limit_max_attempts": limit}
    statuses = []
    for number in range(attempts):
        who = Browser(Client(), django_user_model.objects.create_user(f"rotating{number}"))
        response = caller.connect(
            gw.new_connection_id(),
            who.cookie,
            {"ws_token": who.token(), "channel": "lobby"},
            source_ip=address_in("2001:db8:77:1::/64"),
        )
        statuses.append(response.status_code)
    assert statuses.count(200) == limit
    assert statuses.count(400) == attempts - limit
    assert WebSocketSession.objects.count() == limit


def test_a_different_64_is_a_different_client(api_gateway, channels, browser, caller, settings):
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "rate_limit_max_attempts": 1}
    first = caller.connect(
        gw.new_connection_id(),
        browser.cookie,
        {"ws_token": browser.token(), "channel": "lobby"},
        source_ip="2001:db8:77:1::5",
    )
    assert first.status_code == 200
    assert list(ConnectionRateLimit.objects.values_list("ip_address", flat=True)) == [
        "2001:db8:77:1::"
    ]


def junk_attempts(browser: Browser) -> dict[str, tuple[str, dict, dict]]:
    """Name -> (cookie, query, header changes) of attempts that fail a cheap check."""
    query = {"ws_token": "whatever", "channel": "lobby"}
    return {
        "missing headers": (browser.cookie, query, {"Origin": None, "Sec-WebSocket-Key": None}),
        "no cookie": ("", query, {}),
        "unknown session": ("sessionid=nosuchsessionkey12345678", query, {}),
        "bad channel": (browser.cookie, {**query, "channel": "bad channel\n"}, {}),
        "origin mismatch": (browser.cookie, query, {"Origin": "https://evil.example"}),
    }


@pytest.mark.parametrize(
    "kind", ["missing headers", "no cookie", "unknown session", "bad channel", "origin mismatch"]
)
def test_junk_connects_take_no_lock_and_write_no_row(api_gateway, channels, browser, caller, kind):
    cookie, query, changes = junk_attempts(browser)[kind]
    headers = gw.connect_headers(gw.new_connection_id(), cookie)
    for name, value in changes.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    if not cookie:
        headers.pop("Cookie")
    with CaptureQueriesContext(connection) as queries:
        response = caller.post(f"/ws/connect?{urlencode(query)}", headers)
    assert response.status_code == 400
    assert not ConnectionRateLimit.objects.exists()
    assert not any("pg_advisory" in query["sql"] for query in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_a_failing_attempt_purge_cannot_roll_back_an_accepted_connect(
    api_gateway, channels, browser, caller, monkeypatch
):
    """The package purges expired attempts on 1 record in 100, inside our connect transaction,
    and swallows its errors; a failed statement there aborted the transaction, so the session
    row vanished while the view answered 200. Attempts are written without that purge (the
    cleanup CronJob purges)."""
    from django_aws_api_gateway_websockets import models as package_models

    def failing_purge(cls) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")  # a deadlock or a timeout, in real life
        return 0

    monkeypatch.setattr(package_models.secrets, "randbelow", lambda _n: 0)
    monkeypatch.setattr(ConnectionRateLimit, "_purge_expired", classmethod(failing_purge))
    connection_id = gw.new_connection_id()
    response = caller.connect(
        connection_id, browser.cookie, {"ws_token": browser.token(), "channel": "lobby"}
    )
    assert response.status_code == 200
    assert WebSocketSession.objects.filter(connection_id=connection_id, connected=True).exists()
    assert ConnectionRateLimit.objects.count() == 1
