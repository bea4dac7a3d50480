"""API Gateway's rules for frames, URLs, handshake headers and error frames, observed on a
recording stand-in for Django (docs/emulator-fidelity.md has each rule's AWS source)."""

import json
import socket

import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from devtools.ports import free_port
from tests.emulator.harness import open_client, wait_until

KB = 1024


@pytest.fixture
def emulator(start_emulator, stand_in):
    return start_emulator(EMULATOR_TARGET_URL=f"{stand_in.url}/ws/", EMULATOR_API_ID="abc123defg")


def closed_with(client) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        client.recv(timeout=15)
    return closed.value.rcvd.code


def test_a_frame_over_32_kb_closes_with_1009_without_reaching_django(emulator, stand_in):
    with open_client(emulator.ws_url()) as client:
        client.send("x" * (32 * KB + 1))
        assert closed_with(client) == 1009
    wait_until(lambda: stand_in.stand_in.calls_to("disconnect"), "the $disconnect call")
    assert not stand_in.stand_in.calls_to("default")


def test_a_frame_of_exactly_32_kb_is_relayed(emulator, stand_in):
    with open_client(emulator.ws_url()) as client:
        client.send("x" * (32 * KB))
        (call,) = wait_until(lambda: stand_in.stand_in.calls_to("default"), "the $default call")
    assert len(call.body) == 32 * KB


def test_a_binary_frame_closes_with_1003_without_reaching_django(emulator, stand_in):
    with open_client(emulator.ws_url()) as client:
        client.send(b"\xff\xfe binary")
        assert closed_with(client) == 1003
    wait_until(lambda: stand_in.stand_in.calls_to("disconnect"), "the $disconnect call")
    assert not stand_in.stand_in.calls_to("default")
    emulator.wait_for_event("emulator.disconnect", reason="binary_frame", close_code=1003)


def test_a_url_over_4096_characters_is_refused(emulator, stand_in):
    base = emulator.ws_url(pad="")
    url_of = lambda length: base + "p" * (length - len(base.replace("ws://", "wss://")))  # noqa: E731
    with open_client(url_of(4096)):
        pass
    with pytest.raises(InvalidStatus) as refused:
        open_client(url_of(4097))
    assert refused.value.response.status_code == 414
    assert len(stand_in.stand_in.calls_to("connect")) == 1


def test_no_extension_is_invented_and_handshake_headers_reach_connect_only(emulator, stand_in):
    with open_client(
        emulator.ws_url(), extensions=None, headers={"Accept-Language": "fr"}
    ) as client:
        client.send("hello")
        wait_until(lambda: stand_in.stand_in.calls_to("default"), "the $default call")
    wait_until(lambda: stand_in.stand_in.calls_to("disconnect"), "the $disconnect call")
    connect, default, disconnect = (
        {name.lower(): value for name, value in call.headers.items()}
        for call in stand_in.stand_in.calls
    )
    assert "sec-websocket-extensions" not in connect
    assert connect["accept-language"] == "fr"
    assert connect["user-agent"] == "Mozilla/5.0 (emulator tests)"
    for headers in (default, disconnect):
        assert "accept-language" not in headers
        assert "sec-websocket-key" not in headers
        assert headers["user-agent"] == "AmazonAPIGateway_abc123defg"


def test_the_subprotocol_django_names_is_echoed(emulator, stand_in):
    stand_in.stand_in.headers_for["connect"] = {"Sec-WebSocket-Protocol": "chat"}
    with open_client(emulator.ws_url(), subprotocols=["graphql-ws", "chat"]) as client:
        assert client.subprotocol == "chat"
    (connect,) = stand_in.stand_in.calls_to("connect")
    assert connect.headers["Sec-WebSocket-Protocol"] == "graphql-ws, chat"


def raw_frames(url: str, count: int, send) -> list:
    """The first ``count`` data frames the emulator sends, as frames (not reassembled)."""
    uri = parse_uri(url)
    protocol = ClientProtocol(uri)
    with socket.create_connection((uri.host, uri.port), timeout=15) as sock:
        protocol.send_request(protocol.connect())
        sock.sendall(b"".join(protocol.data_to_send()))
        frames: list = []
        sent = False
        while len(frames) < count:
            protocol.receive_data(sock.recv(65536))
            frames += [event for event in protocol.events_received() if hasattr(event, "opcode")]
            if protocol.state is State.OPEN and not sent:
                send()
                sent = True
        return frames


def test_management_posts_over_32_kb_arrive_in_frames_of_32_kb(emulator, stand_in):
    api = emulator.management_client()
    data = "y" * (100 * KB)

    def post() -> None:
        (connect,) = wait_until(lambda: stand_in.stand_in.calls_to("connect"), "$connect")
        api.post_to_connection(ConnectionId=connect.headers["Connectionid"], Data=data.encode())

    frames = raw_frames(emulator.ws_url(), 4, post)
    assert [(frame.opcode, len(frame.data), frame.fin) for frame in frames] == [
        (Opcode.TEXT, 32 * KB, False),
        (Opcode.CONT, 32 * KB, False),
        (Opcode.CONT, 32 * KB, False),
        (Opcode.CONT, 4 * KB, True),
    ]


def error_frame(client) -> dict:
    return json.loads(client.recv(timeout=30))


def test_a_message_route_that_times_out_gets_the_timeout_error_frame(start_emulator, stand_in):
    emulator = start_emulator(
        EMULATOR_TARGET_URL=f"{stand_in.url}/ws/", EMULATOR_INTEGRATION_TIMEOUT_SECONDS="1"
    )
    stand_in.stand_in.delay_for["default"] = 3
    with open_client(emulator.ws_url()) as client:
        client.send("slow")
        frame = error_frame(client)
    connection_id = stand_in.stand_in.calls_to("connect")[0].headers["Connectionid"]
    assert frame.keys() == {"message", "connectionId", "requestId"}
    assert (frame["message"], frame["connectionId"]) == (
        "Endpoint request timed out",
        connection_id,
    )


def test_a_message_route_that_fails_gets_the_internal_server_error_frame(start_emulator, stand_in):
    routes = json.dumps({"boom": f"http://127.0.0.1:{free_port()}/nothing"})
    emulator = start_emulator(EMULATOR_TARGET_URL=f"{stand_in.url}/ws/", EMULATOR_ROUTES=routes)
    with open_client(emulator.ws_url()) as client:
        client.send('{"action": "boom"}')
        frame = error_frame(client)
    assert frame["message"] == "Internal server error"
    assert frame["connectionId"] == stand_in.stand_in.calls_to("connect")[0].headers["Connectionid"]


def test_djangos_own_error_status_on_a_message_is_not_relayed(emulator, stand_in):
    stand_in.stand_in.status_for["default"] = 500
    api = emulator.management_client()
    with open_client(emulator.ws_url()) as client:
        client.send("refused by Django")
        wait_until(lambda: stand_in.stand_in.calls_to("default"), "the $default call")
        connection_id = stand_in.stand_in.calls[0].headers["Connectionid"]
        api.post_to_connection(ConnectionId=connection_id, Data=b"mark")
        assert client.recv(timeout=15) == "mark"


def test_a_connect_that_times_out_refuses_the_handshake_with_504(start_emulator, stand_in):
    emulator = start_emulator(
        EMULATOR_TARGET_URL=f"{stand_in.url}/ws/", EMULATOR_INTEGRATION_TIMEOUT_SECONDS="1"
    )
    stand_in.stand_in.delay_for["connect"] = 3
    with pytest.raises(InvalidStatus) as refused:
        open_client(emulator.ws_url())
    assert refused.value.response.status_code == 504
