"""What the emulator sends and answers, observed on a stand-in for Django that records
every integration call: headers, bodies, route selection, limits, health."""

import json
import re
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from devtools.ports import free_port
from tests.emulator.harness import BROWSER_EXTENSIONS, open_client, wait_until

SECRET = "stand-in-gateway-secret"
# Every header API Gateway and the load balancer in front of the pods add to each call
# (docs/emulator.md, "What API Gateway sends to Django"). No X-Real-Ip: nginx adds it, neither
# of them does, and the app must not need it.
SENT = {
    "Host",
    "Connectionid",
    "X-Amzn-Apigateway-Api-Id",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Port",
    "X-Amzn-Trace-Id",
    "User-Agent",
    "Content-Length",
}
HANDSHAKE = {
    "Cookie",
    "Origin",
    "Sec-Websocket-Extensions",
    "Sec-Websocket-Key",
    "Sec-Websocket-Version",
}
TRACE_ID = re.compile(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}")


def lower_keys(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@pytest.fixture
def emulator(start_emulator, stand_in):
    return start_emulator(
        EMULATOR_TARGET_URL=f"{stand_in.url}/ws/",
        EMULATOR_API_ID="abc123defg",
        EMULATOR_GATEWAY_SECRET=SECRET,
    )


def test_every_call_carries_the_headers_the_gateway_and_the_balancer_add(emulator, stand_in):
    url = emulator.ws_url(ws_token="t0k3n", channel="lobby")
    with open_client(url, origin="http://example.test", cookie="sessionid=abc") as client:
        client.send('{"action": "ping"}')
        wait_until(lambda: stand_in.stand_in.calls_to("default"), "the $default call")
    wait_until(lambda: stand_in.stand_in.calls_to("disconnect"), "the $disconnect call")
    connect, default, disconnect = stand_in.stand_in.calls

    connection_id = connect.headers["Connectionid"]
    for call in (connect, default, disconnect):
        headers = lower_keys(call.headers)
        assert {name.lower() for name in SENT} <= headers.keys()
        assert "x-real-ip" not in headers
        assert "content-type" not in headers
        assert headers["host"] == f"127.0.0.1:{stand_in.port}"
        assert headers["connectionid"] == connection_id
        assert headers["x-amzn-apigateway-api-id"] == "abc123defg"
        assert headers["x-forwarded-for"] == "127.0.0.1"
        assert headers["x-ws-gateway-secret"] == SECRET
        assert TRACE_ID.fullmatch(headers["x-amzn-trace-id"])

    headers = lower_keys(connect.headers)
    assert {name.lower() for name in HANDSHAKE} <= headers.keys()
    assert connect.query_string == "ws_token=t0k3n&channel=lobby"
    assert (connect.body, headers["content-length"]) == (b"", "0")
    assert headers["cookie"] == "sessionid=abc"
    assert headers["origin"] == "http://example.test"
    # The client's own offer, as a browser sends it; the gateway negotiates none.
    assert headers["sec-websocket-extensions"] == BROWSER_EXTENSIONS
    assert headers["user-agent"] == "Mozilla/5.0 (emulator tests)"
    assert (disconnect.body, lower_keys(disconnect.headers)["content-length"]) == (b"", "0")
    for call in (default, disconnect):
        headers = lower_keys(call.headers)
        # The query string and the handshake headers reach $connect alone.
        assert call.query_string == ""
        assert not {name.lower() for name in HANDSHAKE} & headers.keys()
        assert headers["user-agent"] == "AmazonAPIGateway_abc123defg"


def test_no_secret_header_without_a_configured_secret(start_emulator, stand_in):
    emulator = start_emulator(EMULATOR_TARGET_URL=f"{stand_in.url}/ws/")
    with open_client(emulator.ws_url(), cookie="sessionid=abc"):
        pass
    (connect,) = stand_in.stand_in.calls_to("connect")
    assert "x-ws-gateway-secret" not in lower_keys(connect.headers)


def test_frames_go_raw_to_default_and_the_answer_is_not_relayed(emulator, stand_in):
    frames = ['{ "action" : "nothing-configured",\n "n": 1 }', "not json at all", "[1, 2]"]
    with open_client(emulator.ws_url()) as client:
        for frame in frames:
            client.send(frame)
        wait_until(lambda: len(stand_in.stand_in.calls_to("default")) == 3, "three frames")
        connection_id = stand_in.stand_in.calls[0].headers["Connectionid"]
        # The stand-in answered every call with a body; the first frame the client gets
        # is the one posted through the Management API.
        emulator.management_client().post_to_connection(ConnectionId=connection_id, Data=b"mark")
        assert client.recv(timeout=15) == "mark"
    assert sorted(call.body for call in stand_in.stand_in.calls_to("default")) == sorted(
        frame.encode() for frame in frames
    )


def in_frames_of_32_kb(message: str) -> list[str]:
    """A message as AWS accepts one over 32 KB: fragments of at most 32 KB (ASCII here)."""
    return [message[i : i + 32 * 1024] for i in range(0, len(message), 32 * 1024)]


def test_a_message_of_exactly_128_kb_in_32_kb_frames_is_relayed(emulator, stand_in):
    frame = json.dumps({"action": "x", "pad": ""})
    frame = frame.replace('""', '"' + "p" * (128 * 1024 - len(frame)) + '"')
    with open_client(emulator.ws_url()) as client:
        client.send(in_frames_of_32_kb(frame))
        (call,) = wait_until(lambda: stand_in.stand_in.calls_to("default"), "the $default call")
        assert len(call.body) == 128 * 1024
        client.send("still open")
        wait_until(lambda: len(stand_in.stand_in.calls_to("default")) == 2, "a second frame")


def test_a_message_over_128_kb_closes_with_1009_without_reaching_django(emulator, stand_in):
    with open_client(emulator.ws_url()) as client:
        client.send(in_frames_of_32_kb("x" * (128 * 1024 + 1)))
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=15)
    assert closed.value.rcvd.code == 1009
    wait_until(lambda: stand_in.stand_in.calls_to("disconnect"), "the $disconnect call")
    assert not stand_in.stand_in.calls_to("default")


def test_management_post_over_128_kb_is_payload_too_large(emulator, stand_in):
    api = emulator.management_client()
    with open_client(emulator.ws_url()):
        connection_id = stand_in.stand_in.calls[0].headers["Connectionid"]
        with pytest.raises(api.exceptions.PayloadTooLargeException):
            api.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))


def test_management_api_of_another_stage_is_forbidden(emulator, stand_in):
    api = emulator.management_client()
    api.meta.events.register(
        "before-sign.apigatewaymanagementapi",
        lambda request, **_: setattr(request, "url", request.url.replace("/local/", "/prod/")),
    )
    with pytest.raises(api.exceptions.ForbiddenException):
        api.get_connection(ConnectionId="AnyConnectionId=")


def test_health_counts_open_connections(emulator):
    assert emulator.health() == {"status": "ok", "connections": 0}
    with open_client(emulator.ws_url()), open_client(emulator.ws_url()):
        assert emulator.health()["connections"] == 2
    wait_until(lambda: emulator.health()["connections"] == 0, "both connections to close")


def test_wrong_stage_and_plain_http_are_refused(emulator):
    with pytest.raises(InvalidStatus) as refused:
        open_client(emulator.ws_url().replace("/local", "/prod"))
    assert refused.value.response.status_code == 403
    with pytest.raises(urllib.error.HTTPError) as not_websocket:
        urllib.request.urlopen(f"{emulator.url}/local", timeout=5)  # noqa: S310
    assert not_websocket.value.code == 426


def test_refused_handshake_keeps_djangos_status(start_emulator, stand_in):
    stand_in.stand_in.status_for["connect"] = 401
    emulator = start_emulator(EMULATOR_TARGET_URL=f"{stand_in.url}/ws/")
    with pytest.raises(InvalidStatus) as refused:
        open_client(emulator.ws_url())
    assert refused.value.response.status_code == 401
    # No connection, so no $disconnect either.
    assert [call.route for call in stand_in.stand_in.calls] == ["connect"]


def test_unreachable_integration_refuses_the_handshake_with_502(start_emulator):
    emulator = start_emulator(EMULATOR_TARGET_URL=f"http://127.0.0.1:{free_port()}/ws/")
    with pytest.raises(InvalidStatus) as refused:
        open_client(emulator.ws_url(ws_token="never-logged"))
    assert refused.value.response.status_code == 502
    (error,) = emulator.events("emulator.integration.error")
    assert (error["route"], error["path"]) == ("$connect", "/ws/connect")
    assert "never-logged" not in emulator.log_path.read_text()
