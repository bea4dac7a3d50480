"""The emulator in front of the real Django app under gunicorn, driven by a real WebSocket
client and boto3's real Management API client."""

import json
import re

import pytest
from django_aws_api_gateway_websockets.models import WebSocketSession
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.emulator.harness import open_client, wait_until
from tests.support import gateway as gw

pytestmark = pytest.mark.django_db(transaction=True)

AWS_CONNECTION_ID = re.compile(r"[A-Za-z0-9_-]{15}=")


def connect_browser(emulator, browser, channel: str = "lobby", token: str | None = None):
    url = emulator.ws_url(ws_token=token or browser.token(), channel=channel)
    return open_client(url, origin=gw.ORIGIN, cookie=browser.cookie)


def ping(client, ref: int = 1) -> dict:
    client.send(json.dumps({"action": "ping", "ref": ref}))
    return json.loads(client.recv(timeout=15))


def session_state(connection_id: str) -> bool | None:
    session = WebSocketSession.objects.filter(connection_id=connection_id).first()
    return None if session is None else session.connected


def test_ping_is_answered_with_the_connection_id(django_emulator, browser):
    emulator = django_emulator()
    token = browser.token()
    with connect_browser(emulator, browser, token=token) as client:
        pong = ping(client, ref=7)
        connection_id = pong["connection_id"]
        assert pong == {"v": 1, "type": "pong", "connection_id": connection_id, "ref": 7}
        assert AWS_CONNECTION_ID.fullmatch(connection_id)
        session = WebSocketSession.objects.get(connection_id=connection_id)
        assert session.connected and session.user == browser.user
        assert session.channel_name == "lobby"
        assert emulator.health()["connections"] == 1

    emulator.wait_for_event("emulator.disconnect", connection_id=connection_id)
    log = emulator.log_path.read_text()
    assert emulator.events("emulator.connect")[0]["connection_id"] == connection_id
    for credential in (token, browser.session_key, gw.GATEWAY_SECRET):
        assert credential not in log


@pytest.mark.parametrize(
    ("channel", "token", "status"),
    [("lobby", "not-a-valid-token", 400), ("nowhere", None, 403)],
    ids=["bad-token", "unlisted-channel"],
)
def test_handshake_is_refused_with_djangos_status(django_emulator, browser, channel, token, status):
    emulator = django_emulator()
    with pytest.raises(InvalidStatus) as refused:
        connect_browser(emulator, browser, channel=channel, token=token)
    assert refused.value.response.status_code == status
    assert emulator.wait_for_event("emulator.connect.refused", status=status)
    assert not WebSocketSession.objects.exists()
    assert emulator.health()["connections"] == 0


def test_closing_the_client_marks_the_session_disconnected(django_emulator, browser):
    emulator = django_emulator()
    with connect_browser(emulator, browser) as client:
        connection_id = ping(client)["connection_id"]
        assert session_state(connection_id) is True
    wait_until(lambda: session_state(connection_id) is False, "the $disconnect call")
    assert emulator.wait_for_event("emulator.disconnect", connection_id=connection_id)[
        "reason"
    ] == ("client")


def test_stopping_the_emulator_disconnects_its_connections(django_emulator, browser):
    emulator = django_emulator()
    with connect_browser(emulator, browser) as client:
        connection_id = ping(client)["connection_id"]
        emulator.stop()
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=15)
    assert session_state(connection_id) is False


def test_dropped_disconnects_leave_the_session_connected(django_emulator, browser):
    emulator = django_emulator(EMULATOR_DROP_DISCONNECTS="true")
    with connect_browser(emulator, browser) as client:
        connection_id = ping(client)["connection_id"]
    emulator.wait_for_event("emulator.disconnect", connection_id=connection_id)
    # Once the process has exited no call can still be on its way.
    emulator.stop()
    assert emulator.events("emulator.disconnect")[0]["disconnect_dropped"] is True
    assert session_state(connection_id) is True


def test_management_api_post_get_delete_and_gone(django_emulator, browser):
    emulator = django_emulator()
    api = emulator.management_client()
    with connect_browser(emulator, browser) as client:
        connection_id = ping(client)["connection_id"]

        api.post_to_connection(ConnectionId=connection_id, Data=b'{"hello": "from boto3"}')
        assert json.loads(client.recv(timeout=15)) == {"hello": "from boto3"}

        described = api.get_connection(ConnectionId=connection_id)
        assert described["Identity"] == {
            "SourceIp": "127.0.0.1",
            "UserAgent": "Mozilla/5.0 (emulator tests)",
        }
        assert described["ConnectedAt"] <= described["LastActiveAt"]
        assert described["ConnectedAt"].tzinfo is not None

        api.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=15)
        assert closed.value.rcvd.code == 1000
    wait_until(lambda: session_state(connection_id) is False, "the $disconnect after DELETE")

    for gone_id in (connection_id, "NoSuchConnId0A="):
        with pytest.raises(api.exceptions.GoneException):
            api.post_to_connection(ConnectionId=gone_id, Data=b"{}")
        with pytest.raises(api.exceptions.GoneException):
            api.get_connection(ConnectionId=gone_id)
        with pytest.raises(api.exceptions.GoneException):
            api.delete_connection(ConnectionId=gone_id)


def test_idle_connection_is_closed_then_disconnected(django_emulator, browser):
    emulator = django_emulator(EMULATOR_IDLE_TIMEOUT_SECONDS="1")
    with connect_browser(emulator, browser) as client:
        connection_id = ping(client)["connection_id"]
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=30)
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1001, "idle_timeout")
    wait_until(lambda: session_state(connection_id) is False, "the $disconnect after idling")


def test_active_connection_is_closed_at_the_maximum_duration(django_emulator, browser):
    emulator = django_emulator(EMULATOR_MAX_DURATION_SECONDS="2")
    with connect_browser(emulator, browser) as client:
        connection_id = ping(client)["connection_id"]
        with pytest.raises(ConnectionClosed) as closed:
            for ref in range(1000):  # keeps the connection busy until the gateway ends it
                ping(client, ref)
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1001, "max_duration")
    wait_until(lambda: session_state(connection_id) is False, "the $disconnect at the maximum")


def test_message_over_128_kb_closes_the_connection_with_1009(django_emulator, browser):
    emulator = django_emulator()
    with connect_browser(emulator, browser) as client:
        connection_id = ping(client)["connection_id"]
        client.send("x" * (128 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=15)
    assert closed.value.rcvd.code == 1009
    emulator.wait_for_event("emulator.frame.too_large", connection_id=connection_id)
    wait_until(lambda: session_state(connection_id) is False, "the $disconnect after 1009")


def test_additional_route_goes_to_its_own_integration(django_emulator, browser, stand_in):
    emulator = django_emulator(EMULATOR_ROUTES=json.dumps({"record": f"{stand_in.url}/ws/record"}))
    frame = '{"action": "record",  "payload": [1, 2, 3]}'
    with connect_browser(emulator, browser) as client:
        connection_id = ping(client)["connection_id"]
        client.send(frame)
        (call,) = wait_until(lambda: stand_in.stand_in.calls_to("record"), "the record route")
        assert ping(client, ref=2)["ref"] == 2  # other actions still reach Django
    assert call.body == frame.encode()
    assert call.headers["Connectionid"] == connection_id
    assert call.headers["Host"] == f"127.0.0.1:{stand_in.port}"
    assert call.headers["X-Ws-Gateway-Secret"] == gw.GATEWAY_SECRET
