"""The callbacks depend only on headers API Gateway is configured or documented to send, and
each route logs the header names it received once per process (docs/deployment.md, "The
header census")."""

import json

import pytest
from django_aws_api_gateway_websockets.models import WebSocketSession

from realtime import census
from tests.support import gateway as gw

# Headers a proxy may or may not add (nginx adds X-Real-Ip, an ALB X-Forwarded-Port; AWS
# documents neither, nor X-Amzn-Trace-Id, for a WebSocket HTTP_PROXY integration).
OPTIONAL_HEADERS = ["X-Real-Ip", "X-Forwarded-Port", "X-Amzn-Trace-Id"]


@pytest.fixture(autouse=True)
def _fresh_census(monkeypatch):
    """Every test starts as a new process would: no route reported yet."""
    monkeypatch.setattr(census, "_reported", set())


def census_events(caplog) -> list[dict]:
    return [
        r.msg
        for r in caplog.records
        if isinstance(r.msg, dict) and r.msg.get("event") == "ws.headers.census"
    ]


@pytest.mark.parametrize("missing", OPTIONAL_HEADERS)
def test_a_connect_without_an_optional_header_is_accepted(
    api_gateway, channels, browser, caller, missing
):
    connection_id = gw.new_connection_id()
    headers = gw.connect_headers(connection_id, browser.cookie)
    del headers[missing]
    response = caller.post(f"/ws/connect?ws_token={browser.token()}&channel=lobby", headers)
    assert response.status_code == 200, response.content
    assert WebSocketSession.objects.filter(connection_id=connection_id, connected=True).exists()


@pytest.mark.parametrize("missing", OPTIONAL_HEADERS)
def test_a_message_without_an_optional_header_is_handled(
    connected, caller, management_api, missing
):
    connection_id = connected()
    headers = gw.callback_headers(connection_id)
    del headers[missing]
    response = caller.post(
        "/ws/default", headers, json.dumps({"action": "ping", "ref": missing}).encode()
    )
    assert response.status_code == 200, response.content
    assert [frame["ref"] for frame in management_api.received(connection_id)] == [missing]


@pytest.mark.parametrize("missing", OPTIONAL_HEADERS)
def test_a_disconnect_without_an_optional_header_closes_the_session(connected, caller, missing):
    connection_id = connected()
    headers = gw.callback_headers(connection_id)
    del headers[missing]
    response = caller.post("/ws/disconnect", headers)
    assert response.status_code == 200, response.content
    assert not WebSocketSession.objects.get(connection_id=connection_id).connected


def connect_without_extensions(browser, caller):
    connection_id = gw.new_connection_id()
    headers = gw.connect_headers(connection_id, browser.cookie)
    del headers["Sec-WebSocket-Extensions"]
    response = caller.post(f"/ws/connect?ws_token={browser.token()}&channel=lobby", headers)
    return response, WebSocketSession.objects.filter(connection_id=connection_id).exists()


def test_a_client_without_extensions_is_refused_by_default(api_gateway, channels, browser, caller):
    response, opened = connect_without_extensions(browser, caller)
    assert response.status_code == 400
    assert not opened


def test_a_native_client_without_extensions_connects_when_allowed(
    api_gateway, channels, browser, caller, settings
):
    settings.WS_ALLOW_CLIENTS_WITHOUT_EXTENSIONS = True
    response, opened = connect_without_extensions(browser, caller)
    assert response.status_code == 200, response.content
    assert opened


def test_each_route_logs_the_header_names_it_received_once(
    connected, caller, browser, management_api, caplog
):
    first, second = connected(), connected()
    for connection_id in (first, second):
        caller.message(connection_id, json.dumps({"action": "ping"}))
        caller.disconnect(connection_id)

    events = census_events(caplog)
    assert [event["route"] for event in events] == ["connect", "default", "disconnect"]
    connect = events[0]
    assert connect["names"] == sorted(connect["names"])
    sent = {name.lower() for name in gw.connect_headers(first, browser.cookie)}
    assert {name.lower() for name in connect["names"]} >= sent
    assert {"Cookie", "Origin", "Sec-Websocket-Key", "Connectionid"} <= set(connect["required"])
    assert connect["missing"] == []
    # Names only: no value of any header reaches the log.
    assert browser.session_key not in caplog.text
    assert gw.GATEWAY_SECRET not in caplog.text


def test_the_census_names_a_required_header_that_did_not_come(
    api_gateway, channels, browser, caller, caplog
):
    headers = gw.connect_headers(gw.new_connection_id(), browser.cookie)
    del headers["X-Amzn-Apigateway-Api-Id"]
    response = caller.post(f"/ws/connect?ws_token={browser.token()}&channel=lobby", headers)
    assert response.status_code == 400
    (event,) = census_events(caplog)
    assert event["missing"] == ["X-Amzn-Apigateway-Api-Id"]


def test_a_forged_callback_is_not_counted(api_gateway, channels, browser, caller, caplog):
    headers = gw.connect_headers(gw.new_connection_id(), browser.cookie, secret=None)
    headers["X-Made-Up"] = "1"
    response = caller.post(f"/ws/connect?ws_token={browser.token()}&channel=lobby", headers)
    assert response.status_code == 403
    assert census_events(caplog) == []
