"""Behaviour under the real web process: gunicorn, several workers, one shared database."""

import json
import re
from urllib.parse import urlencode

import pytest
import requests
from django_aws_api_gateway_websockets.models import WebSocketSession, WebSocketToken

from tests.support import gateway as gw
from tests.support.live_server import concurrently

pytestmark = pytest.mark.django_db(transaction=True)


def post_connect(server, cookie: str, token: str, source_ip: str) -> int:
    query = urlencode({"ws_token": token, "channel": "lobby"})
    headers = gw.connect_headers(gw.new_connection_id(), cookie, source_ip=source_ip)
    return requests.post(
        f"{server.url}/ws/connect?{query}", headers=headers, data=b"", timeout=30
    ).status_code


def test_one_token_used_by_20_concurrent_connects_admits_one(
    gunicorn_server, api_gateway, channels, browser
):
    token = browser.token()
    statuses = concurrently(
        [lambda: post_connect(gunicorn_server, browser.cookie, token, "203.0.113.20")] * 20
    )
    assert statuses.count(200) == 1, statuses
    assert statuses.count(400) == 19, statuses
    assert WebSocketSession.objects.count() == 1


def test_concurrent_connects_from_one_ip_admit_exactly_the_limit(
    gunicorn_server, api_gateway, channels, browser
):
    limit = 10  # WS_RATE_LIMIT_MAX_ATTEMPTS of the gunicorn_server fixture
    tokens = [browser.token() for _ in range(30)]
    statuses = concurrently(
        [
            lambda token=token: post_connect(gunicorn_server, browser.cookie, token, "203.0.113.30")
            for token in tokens
        ]
    )
    assert statuses.count(200) == limit, statuses
    assert statuses.count(400) == 30 - limit, statuses
    assert WebSocketSession.objects.count() == limit


def sign_in(server, username: str, password: str) -> requests.Session:
    """Sign in through the login form, with its CSRF token, like a browser."""
    session = requests.Session()
    page = session.get(f"{server.url}/accounts/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    answer = session.post(
        f"{server.url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{server.url}/accounts/login/"},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.url.rstrip("/") == server.url, answer.url
    return session


def test_token_endpoint_needs_csrf_and_a_signed_in_user(gunicorn_server, user):
    anonymous = requests.post(f"{gunicorn_server.url}/api/ws-token/", timeout=10)
    assert anonymous.status_code == 403

    session = sign_in(gunicorn_server, "alice", "alice-password-123")
    without_csrf = session.post(f"{gunicorn_server.url}/api/ws-token/", timeout=10)
    assert without_csrf.status_code == 403

    with_csrf = session.post(
        f"{gunicorn_server.url}/api/ws-token/",
        headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": gunicorn_server.url},
        timeout=10,
    )
    assert with_csrf.status_code == 200
    body = with_csrf.json()
    assert set(body) == {"token", "expires_in"}
    assert WebSocketToken.objects.filter(token=body["token"], used=False).exists()


def test_concurrent_token_requests_issue_exactly_the_limit(gunicorn_server, user):
    """40 requests at once by one user, over three worker processes: the count and the
    insert of one request must not interleave with another's (the package's count-then-insert
    issued 23 against a limit of 20)."""
    limit = 20  # WS_TOKEN_RATE_LIMIT_PER_MINUTE's default
    session = sign_in(gunicorn_server, "alice", "alice-password-123")
    headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": gunicorn_server.url}

    def request_token() -> int:
        return session.post(
            f"{gunicorn_server.url}/api/ws-token/", headers=headers, timeout=30
        ).status_code

    statuses = concurrently([request_token] * 40)
    assert statuses.count(200) == limit, statuses
    assert statuses.count(403) == 40 - limit, statuses
    assert WebSocketToken.objects.filter(user=user).count() == limit


REQUIRED_FIELDS = {"timestamp", "level", "logger", "event"}


def test_logs_are_json_with_context_and_no_secrets(
    gunicorn_server, api_gateway, channels, user, session_management_api
):
    """Drive a whole flow, then read every line the server wrote."""
    first_line = len(gunicorn_server.log_lines())
    browser = sign_in(gunicorn_server, "alice", "alice-password-123")
    token = browser.post(
        f"{gunicorn_server.url}/api/ws-token/",
        headers={"X-CSRFToken": browser.cookies["csrftoken"], "Referer": gunicorn_server.url},
        timeout=10,
    ).json()["token"]
    session_key = browser.cookies["sessionid"]
    cookie = f"sessionid={session_key}; csrftoken={browser.cookies['csrftoken']}"
    connection_id = gw.new_connection_id()
    session_management_api.open_connections.add(connection_id)
    query = urlencode({"ws_token": token, "channel": "lobby"})
    headers = gw.connect_headers(connection_id, cookie, source_ip="203.0.113.40")
    assert requests.post(
        f"{gunicorn_server.url}/ws/connect?{query}", headers=headers, data=b"", timeout=10
    ).ok
    ping = requests.post(
        f"{gunicorn_server.url}/ws/default",
        headers=gw.callback_headers(connection_id),
        data=json.dumps({"action": "ping"}),
        timeout=10,
    )
    assert ping.ok
    forged = requests.post(
        f"{gunicorn_server.url}/ws/default",
        headers=gw.callback_headers(connection_id, secret="forged-secret-0123456789abcdefghijklmn"),
        data=b"{}",
        timeout=10,
    )
    assert forged.status_code == 403

    lines = gunicorn_server.log_lines()[first_line:]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert records
    for record in records:
        # gunicorn's own process events (worker boot, restart) belong to no request.
        required = REQUIRED_FIELDS | (
            {"request_id"} if record["logger"] != "gunicorn.error" else set()
        )
        missing = required - set(record)
        assert not missing, (missing, record)

    accepted = [r for r in records if r["event"] == "ws.connect.accepted"]
    assert len(accepted) == 1
    assert accepted[0]["connection_id"] == connection_id
    assert accepted[0]["route"] == "connect"
    assert accepted[0]["api_id"] == gw.API_ID
    assert accepted[0]["channel"] == "lobby"
    assert accepted[0]["user_id"] == user.pk
    access = [
        r
        for r in records
        if r["event"] == "http.request" and r.get("connection_id") == connection_id
    ]
    assert {r["path"] for r in access} == {"/ws/connect", "/ws/default"}
    assert any(r["event"] == "ws.gateway_secret.invalid" for r in records)

    text = "\n".join(lines)
    for secret in (
        token,
        session_key,
        gw.GATEWAY_SECRET,
        "alice-password-123",
        browser.cookies["csrftoken"],
    ):
        assert secret not in text
