"""The whole connect -> message -> disconnect flow, with the headers API Gateway sends."""

import json

import pytest
from django_aws_api_gateway_websockets.models import WebSocketSession, WebSocketToken


def test_connect_message_disconnect(api_gateway, channels, browser, caller, management_api):
    connection_id = "Abc123_=-xyZ"
    token = browser.token()
    response = caller.connect(
        connection_id, browser.cookie, {"ws_token": token, "channel": "lobby"}
    )
    assert response.status_code == 200, response.content

    session = WebSocketSession.objects.get(connection_id=connection_id)
    assert session.connected
    assert session.channel_name == "lobby"
    assert session.user == browser.user
    assert session.api_gateway == api_gateway
    assert WebSocketToken.objects.get(token=token).used

    management_api.open_connections.add(connection_id)
    response = caller.message(connection_id, json.dumps({"action": "ping", "ref": 7}))
    assert response.status_code == 200, response.content
    assert management_api.received(connection_id) == [
        {"v": 1, "type": "pong", "connection_id": connection_id, "ref": 7}
    ]

    response = caller.disconnect(connection_id)
    assert response.status_code == 200
    session.refresh_from_db()
    assert not session.connected


def test_join_and_leave_channels(connected, caller, management_api, user):
    connection_id = connected("lobby")
    caller.message(connection_id, json.dumps({"action": "join", "channel": "announcements"}))
    assert WebSocketSession.objects.get(connection_id=connection_id).channel_name == "announcements"

    refused = caller.message(connection_id, json.dumps({"action": "join", "channel": "staff"}))
    assert refused.status_code == 403
    assert WebSocketSession.objects.get(connection_id=connection_id).channel_name == "announcements"

    caller.message(connection_id, json.dumps({"action": "leave"}))
    assert WebSocketSession.objects.get(connection_id=connection_id).channel_name == ""
    assert [frame["type"] for frame in management_api.received(connection_id)] == ["joined", "left"]


def test_unlisted_channel_is_refused(api_gateway, channels, browser, caller):
    response = caller.connect(
        "unlisted1", browser.cookie, {"ws_token": browser.token(), "channel": "nowhere"}
    )
    assert response.status_code == 403
    assert not WebSocketSession.objects.exists()


def test_unknown_action_answers_with_an_error_frame(connected, caller, management_api):
    connection_id = connected()
    response = caller.message(connection_id, json.dumps({"action": "connect"}))
    assert response.status_code == 200
    assert management_api.received(connection_id)[-1]["type"] == "error"


def test_message_for_unknown_connection_is_refused(api_gateway, caller):
    response = caller.message("nosuchconnection", json.dumps({"action": "ping"}))
    assert response.status_code == 400
    assert response.content == b"Invalid connection ID"


def test_message_without_action_is_refused(connected, caller):
    response = caller.message(connected(), json.dumps({"text": "hello"}))
    assert response.status_code == 400


def test_connect_without_token_is_refused(api_gateway, channels, browser, caller):
    response = caller.connect("notoken1", browser.cookie, {"channel": "lobby"})
    assert response.status_code == 400
    assert response.content == b"Invalid or expired token"
    assert not WebSocketSession.objects.exists()


def test_answers_come_in_the_version_the_client_speaks(connected, caller, management_api):
    connection_id = connected()
    caller.message(connection_id, json.dumps({"action": "ping", "v": 2, "ref": "a"}))
    caller.message(connection_id, json.dumps({"action": "ping", "v": 1, "ref": "b"}))
    v2, v1 = management_api.received(connection_id)
    assert (v2["v"], v2["ref"], "sent_at" in v2) == (2, "a", True)
    assert v1 == {"v": 1, "type": "pong", "connection_id": connection_id, "ref": "b"}


@pytest.mark.parametrize("version", [3, 0, "2", True])
def test_an_unsupported_version_gets_an_error_frame(connected, caller, management_api, version):
    connection_id = connected()
    response = caller.message(connection_id, json.dumps({"action": "ping", "v": version}))
    assert response.status_code == 400
    error = management_api.received(connection_id)[-1]
    assert error == {
        "v": 1,
        "type": "error",
        "error": "unsupported protocol version",
        "supported": [1, 2],
        "ref": None,
    }


def test_a_release_speaking_version_1_refuses_version_2(
    connected, caller, management_api, settings
):
    """The previous release (blue in the drill): version 1 only, and v1 broadcasts."""
    settings.WS_PROTOCOL_VERSION = 1
    connection_id = connected()
    assert caller.message(connection_id, json.dumps({"action": "ping", "v": 2})).status_code == 400
    assert management_api.received(connection_id)[-1]["supported"] == [1]
    assert caller.message(connection_id, json.dumps({"action": "ping"})).status_code == 200
    assert "sent_at" not in management_api.received(connection_id)[-1]


def test_a_heartbeat_is_accepted_and_answered_with_nothing(connected, caller, management_api):
    """The client's keep-alive against API Gateway's idle timeout costs no Management API call."""
    connection_id = connected()
    response = caller.message(connection_id, json.dumps({"action": "heartbeat", "v": 2}))
    assert response.status_code == 200, response.content
    assert management_api.received(connection_id) == []
