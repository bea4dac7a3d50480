"""The demo page against API Gateway's connection limits and error frames, in Chromium.

Its own Django (gunicorn on the test database) and gateway emulator, started with short
limits (the emulator's EMULATOR_IDLE_TIMEOUT_SECONDS and EMULATOR_MAX_DURATION_SECONDS, and
the matching WS_GATEWAY_* settings the page plans with), so the 10-minute idle timeout and
the 2-hour maximum take seconds. Not the compose stack: its emulator keeps AWS's limits.
"""

import json

import boto3
import pytest

from devtools.ports import free_port
from tests.conftest import database_url_for_tests
from tests.emulator.harness import EmulatorProcess
from tests.support import gateway as gw
from tests.support.live_server import GunicornServer

# Every test takes ``site`` before ``page``: Playwright runs an event loop, and Django refuses
# database queries (the fixtures' rows) while one runs.
pytestmark = pytest.mark.django_db(transaction=True)

IDLE_TIMEOUT_SECONDS = 4
MAX_DURATION_SECONDS = 20
PASSWORD = "limits-password-123"
TIMEOUT_MS = 15_000


@pytest.fixture
def site(django_db_blocker, tmp_path, api_gateway, channels, django_user_model):
    """Django and the emulator with short limits; the page's URL and the emulator."""
    django_user_model.objects.create_user("walker", password=PASSWORD)
    web_port, emulator_port = free_port(), free_port()
    host = f"localhost:{web_port}"
    limits = {
        "WS_GATEWAY_IDLE_TIMEOUT_SECONDS": str(IDLE_TIMEOUT_SECONDS),
        "WS_GATEWAY_MAX_DURATION_SECONDS": str(MAX_DURATION_SECONDS),
    }
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    web = GunicornServer(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "WS_GATEWAY_SECRET": gw.GATEWAY_SECRET,
            "AWS_GATEWAY_REGION_NAME": "us-east-1",
            "WS_INTEGRATION_HOST": host,
            "WS_PUBLIC_URL": f"ws://localhost:{emulator_port}/{gw.STAGE}",
            "WS_MANAGEMENT_ENDPOINT_URL": f"http://127.0.0.1:{emulator_port}",
            "WS_RATE_LIMIT_MAX_ATTEMPTS": "1000",
            **limits,
        },
        tmp_path / "gunicorn.log",
        workers=2,
        port=web_port,
    ).start()
    emulator = EmulatorProcess(
        {
            "EMULATOR_PORT": str(emulator_port),
            "EMULATOR_TARGET_URL": f"http://{host}/ws/",
            "EMULATOR_UPSTREAM": f"127.0.0.1:{web_port}",
            "EMULATOR_API_ID": gw.API_ID,
            "EMULATOR_STAGE": gw.STAGE,
            "EMULATOR_GATEWAY_SECRET": gw.GATEWAY_SECRET,
            "EMULATOR_IDLE_TIMEOUT_SECONDS": str(IDLE_TIMEOUT_SECONDS),
            "EMULATOR_MAX_DURATION_SECONDS": str(MAX_DURATION_SECONDS),
        },
        tmp_path / "emulator.log",
    ).start()
    yield f"http://{host}", emulator
    emulator.stop()
    web.stop()


def open_page(page, base_url: str) -> str:
    """Sign in; the connection id the page learned from its first pong."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", "walker")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    page.wait_for_function(
        "window.realtimeDemo.frames.some(f => f.type === 'pong')", timeout=TIMEOUT_MS
    )
    return page.evaluate("window.realtimeDemo.connectionId")


def log_entries(page) -> list[str]:
    return page.eval_on_selector_all("#log li", "items => items.map(i => i.textContent)")


def closes(page) -> list[str]:
    """Every close the page saw; a renewal's own close of the old connection is not one."""
    return [entry for entry in log_entries(page) if "closed (code" in entry]


def pong_connection_ids(page) -> set[str]:
    return set(
        page.evaluate(
            "window.realtimeDemo.frames.filter(f => f.type === 'pong').map(f => f.connection_id)"
        )
    )


def test_an_idle_page_stays_connected_past_the_idle_timeout(site, page):
    base_url, _emulator = site
    connection_id = open_page(page, base_url)
    page.wait_for_timeout(3 * IDLE_TIMEOUT_SECONDS * 1000)  # nothing sent by the user
    assert closes(page) == []
    assert pong_connection_ids(page) == {connection_id}
    assert page.get_attribute("#status", "data-state") == "connected"
    assert page.evaluate("window.realtimeDemo.heartbeats") >= 2


def test_a_page_renews_its_connection_before_the_maximum_duration(site, page):
    base_url, _emulator = site
    first = open_page(page, base_url)
    page.wait_for_timeout(int(1.5 * MAX_DURATION_SECONDS * 1000))
    assert closes(page) == []  # the gateway never cut it: the page moved first
    assert page.evaluate("window.realtimeDemo.renewals") >= 1
    ids = pong_connection_ids(page)
    assert first in ids and len(ids) >= 2, ids
    assert page.get_attribute("#status", "data-state") == "connected"


@pytest.mark.parametrize("message", ["Internal server error", "Endpoint request timed out"])
def test_a_gateway_error_frame_is_shown_and_the_connection_kept(site, page, message):
    """The frame API Gateway sends when an integration call fails or exceeds 29 s, pushed
    here through the emulator's Management API with boto3's real client."""
    base_url, emulator = site
    connection_id = open_page(page, base_url)
    frame = {"message": message, "connectionId": connection_id, "requestId": "Xy1aBcDeIAMEabc="}
    boto3.client(
        "apigatewaymanagementapi", endpoint_url=f"{emulator.url}/{gw.STAGE}"
    ).post_to_connection(ConnectionId=connection_id, Data=json.dumps(frame).encode())
    page.wait_for_function("window.realtimeDemo.gatewayErrors.length === 1", timeout=TIMEOUT_MS)
    shown = [entry for entry in log_entries(page) if "gateway error" in entry]
    assert len(shown) == 1 and f"gateway error: {message} (request Xy1aBcDeIAMEabc=)" in shown[0]
    # Not taken for a protocol frame (which would be shown as "undefined: {…}").
    assert not any(entry.split(" ", 1)[1].startswith("undefined") for entry in log_entries(page))
    assert page.get_attribute("#status", "data-state") == "connected"
