"""Callbacks that did not come through our API Gateway are refused before any work."""

import json

import pytest
from django_aws_api_gateway_websockets.models import WebSocketSession

from tests.support import gateway as gw


@pytest.mark.parametrize("secret", [None, "wrong-secret-0123456789abcdefghijklmnopq"])
@pytest.mark.parametrize("route", ["connect", "default", "disconnect"])
def test_missing_or_wrong_gateway_secret_is_403(
    api_gateway, channels, browser, caller, secret, route
):
    headers = gw.connect_headers("forged123", browser.cookie, secret=secret)
    body = json.dumps({"action": "ping"}).encode() if route == "default" else b""
    response = caller.post(f"/ws/{route}?ws_token={browser.token()}&channel=lobby", headers, body)
    assert response.status_code == 403
    assert not WebSocketSession.objects.exists()


@pytest.mark.parametrize("missing", ["X-Forwarded-For", "Connectionid", "X-Amzn-Apigateway-Api-Id"])
def test_missing_required_header_is_400(api_gateway, channels, browser, caller, missing):
    headers = gw.connect_headers("forged124", browser.cookie)
    del headers[missing]
    response = caller.post(f"/ws/connect?ws_token={browser.token()}&channel=lobby", headers)
    assert response.status_code == 400
    assert response.content == b"Invalid request headers"


@pytest.mark.parametrize("missing", ["Cookie", "Origin", "Sec-WebSocket-Key"])
def test_missing_handshake_header_on_connect_is_400(
    api_gateway, channels, browser, caller, missing
):
    headers = gw.connect_headers("forged125", browser.cookie)
    del headers[missing]
    response = caller.post(f"/ws/connect?ws_token={browser.token()}&channel=lobby", headers)
    assert response.status_code == 400
    assert not WebSocketSession.objects.exists()


def test_unregistered_api_id_is_400(api_gateway, channels, browser, caller):
    headers = gw.connect_headers("forged126", browser.cookie)
    headers["X-Amzn-Apigateway-Api-Id"] = "someoneelse"
    response = caller.post(f"/ws/connect?ws_token={browser.token()}&channel=lobby", headers)
    assert response.status_code == 400


@pytest.mark.parametrize("secret", [None, "wrong-secret-0123456789abcdefghijklmnopq"])
@pytest.mark.parametrize("route", ["connect", "default", "disconnect", "anything"])
@pytest.mark.parametrize("shape", ["as the gateway sends", "no connection id", "bare"])
def test_a_forged_callback_costs_no_database_query(
    api_gateway, channels, browser, caller, django_assert_num_queries, secret, route, shape
):
    """docs/security.md: 403 before any database query, whatever else the request carries
    (a session cookie would make a user lookup, for the log context, cost a query)."""
    token = browser.token()
    headers = gw.connect_headers(gw.new_connection_id(), browser.cookie, secret=secret)
    if shape == "no connection id":
        del headers["Connectionid"]
    elif shape == "bare":
        headers = {"Cookie": browser.cookie} | ({"X-Ws-Gateway-Secret": secret} if secret else {})
    body = json.dumps({"action": "ping"}).encode() if route == "default" else b""
    with django_assert_num_queries(0):
        response = caller.post(f"/ws/{route}?ws_token={token}&channel=lobby", headers, body)
    assert response.status_code == 403
