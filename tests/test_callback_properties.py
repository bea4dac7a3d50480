"""Every callback route against generated input: never a 5xx, never a write without every check.

Hypothesis drives the real view (middleware and all) with header sets from API Gateway's with
some dropped or rewritten, bodies (JSON of any shape and type, text, 200 kB), query strings,
connection ids of any form, with the gateway secret, without it, or wrong. Properties:

- no answer is a 5xx;
- a session row appears, and a token is spent, only on a `$connect` answered 200;
- every refusal (4xx) is logged as a named event (`ws.*`, or Django's DisallowedHost).

`pytest --hypothesis-show-statistics` prints how many examples each route ran.
"""

import json
import string
from urllib.parse import urlencode

import pytest
from django.test import Client
from django_aws_api_gateway_websockets.models import WebSocketSession, WebSocketToken
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import gateway as gw

ROUTES = ["connect", "default", "disconnect", "join", "unknown-route"]
HEADER_TEXT = st.text(string.printable.replace("\r", "").replace("\n", ""), max_size=80)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HEADER_TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["action", "v", "channel", "text", "ref", "x"]), children)
    ),
    max_leaves=12,
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "action": st.sampled_from(["ping", "join", "leave", "broadcast", "default", "nope"])
        | json_values,
        "v": st.sampled_from([1, 2, 3, "2", None]) | json_values,
        "channel": st.sampled_from(["lobby", "staff", "smoke", "lobby\n", ""]) | json_values,
        "text": HEADER_TEXT | json_values,
    },
)
bodies = (
    messages.map(lambda m: json.dumps(m).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=200)
    | st.just(b"x" * 200_000)
    | st.just(b"")
)
secrets = st.sampled_from(["right", "missing", "wrong"])
connection_ids = st.sampled_from(["open", "new", "closed"]) | HEADER_TEXT
channels = st.sampled_from(["lobby", "staff", "announcements", "nope"]) | HEADER_TEXT
header_edits = st.dictionaries(
    st.sampled_from(
        [
            "Host",
            "Origin",
            "Cookie",
            "X-Forwarded-For",
            "X-Amzn-Apigateway-Api-Id",
            "User-Agent",
            "Sec-WebSocket-Key",
            "X-Real-Ip",
            "X-Amzn-Trace-Id",
        ]
    ),
    st.none() | HEADER_TEXT,  # None drops the header
    max_size=3,
)


@pytest.fixture
def setting_up(api_gateway, channels, browser, connected):
    """An open and a closed connection of the signed-in browser, to aim at."""
    open_id = connected("lobby")
    closed_id = connected("lobby")
    WebSocketSession.objects.filter(connection_id=closed_id).update(connected=False)
    return {"open": open_id, "closed": closed_id}


def build_request(route, secret, connection_id, edits, query, ids, browser):
    if connection_id in ids:
        connection_id = ids[connection_id]
    elif connection_id == "new":
        connection_id = gw.new_connection_id()
    secret_value = {
        "right": gw.GATEWAY_SECRET,
        "missing": None,
        "wrong": "wrong-secret-0123456789abcdefghijklmnopq",
    }
    headers = gw.connect_headers(connection_id, browser.cookie, secret=secret_value[secret])
    for name, value in edits.items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return f"/ws/{route}?{urlencode(query)}", headers


@pytest.mark.parametrize("route", ROUTES)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    secret=secrets,
    connection_id=connection_ids,
    edits=header_edits,
    channel=channels,
    real_token=st.booleans(),
    body=bodies,
)
def test_no_callback_input_causes_a_5xx_or_an_unchecked_write(
    route, setting_up, browser, caplog, secret, connection_id, edits, channel, real_token, body
):
    caplog.clear()
    token = browser.token() if real_token else "not-a-token"
    path, headers = build_request(
        route,
        secret,
        connection_id,
        edits,
        {"ws_token": token, "channel": channel},
        setting_up,
        browser,
    )
    sessions_before = WebSocketSession.objects.count()

    response = gw.GatewayCaller(Client(raise_request_exception=False)).post(path, headers, body)

    assert response.status_code < 500, (response.status_code, response.content[:200])
    opened = WebSocketSession.objects.count() - sessions_before
    spent = WebSocketToken.objects.filter(token=token, used=True).exists()
    if route == "connect" and response.status_code == 200 and opened:
        assert secret == "right" and real_token and opened == 1 and spent
    else:
        assert opened == 0
        assert not spent
    if response.status_code >= 400:
        assert any(map(is_named_refusal, caplog.records)), (response.status_code, caplog.text)


def is_named_refusal(record) -> bool:
    """Our `ws.*` events; and Django's own for a Host it refuses before any view runs
    (`django.security.DisallowedHost`)."""
    if record.name.startswith("django.security."):
        return True
    return isinstance(record.msg, dict) and str(record.msg.get("event", "")).startswith("ws.")
