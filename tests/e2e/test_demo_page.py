"""The demo page: sign in, connect through the gateway, ping, broadcast, survive a replica."""

import json
import os
import shlex
import subprocess
import uuid

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import ARTIFACTS

TIMEOUT_MS = 15_000


def sign_in(page, base_url: str, credentials: tuple[str, str]) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", credentials[0])
    page.fill("input[name=password]", credentials[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    page.wait_for_selector("#status[data-state=connected]", timeout=TIMEOUT_MS)


def frames_of(page, kind: str) -> list[dict]:
    return page.evaluate(f"window.realtimeDemo.frames.filter(f => f.type === {kind!r})")


def wait_for_frames(page, kind: str, count: int) -> None:
    page.wait_for_function(
        f"window.realtimeDemo.frames.filter(f => f.type === {kind!r}).length >= {count}",
        timeout=TIMEOUT_MS,
    )


def ping(page) -> None:
    before = len(frames_of(page, "pong"))
    page.click("#ping")
    wait_for_frames(page, "pong", before + 1)


def ping_until_answered(page, attempts: int = 3) -> None:
    for _ in range(attempts):
        try:
            ping(page)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"no pong for {attempts} pings in a row")


def test_demo_page_pings_and_broadcasts(page, base_url, credentials):
    sign_in(page, base_url, credentials)
    wait_for_frames(page, "pong", 1)  # the page pings on connect and learns its id
    connection_id = frames_of(page, "pong")[0]["connection_id"]
    assert page.text_content("#connection-id") == connection_id

    ping(page)
    assert frames_of(page, "pong")[-1]["connection_id"] == connection_id

    text = f"hello from the browser test {uuid.uuid4().hex[:6]}"
    page.fill("#broadcast-text", text)
    page.click("#broadcast")
    page.wait_for_function(
        f"window.realtimeDemo.frames.some(f => f.type === 'broadcast' && f.text === {text!r})",
        timeout=TIMEOUT_MS,
    )
    page.screenshot(path=str(ARTIFACTS / "demo-page.png"), full_page=True)


def replica_logs(service: str) -> list[dict]:
    """The JSON log lines of one web replica, through the command in E2E_LOGS_COMMAND."""
    template = os.environ.get("E2E_LOGS_COMMAND")
    if not template:
        pytest.fail(
            "Set E2E_LOGS_COMMAND to a command printing one replica's logs, with {service} "
            "(make e2e sets it to `docker-compose logs --no-color {service}`)."
        )
    command = shlex.split(template.format(service=service))
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)  # noqa: S603
    records = []
    for line in output.stdout.splitlines():
        _prefix, _bar, payload = line.partition("| ")
        if payload.startswith("{"):
            records.append(json.loads(payload))
    return records


def test_one_connections_callbacks_reach_every_replica(page, base_url, credentials):
    """The web tier is stateless: the gateway spreads one connection's calls over replicas."""
    sign_in(page, base_url, credentials)
    wait_for_frames(page, "pong", 1)
    connection_id = frames_of(page, "pong")[0]["connection_id"]
    for _ in range(6):
        ping(page)
    replicas = os.environ.get("E2E_REPLICAS", "web1,web2").split(",")
    served = {
        replica: sum(
            1
            for record in replica_logs(replica)
            if record.get("event") == "http.request"
            and record.get("connection_id") == connection_id
            and record.get("status") == 200
        )
        for replica in replicas
    }
    assert all(count >= 1 for count in served.values()), served
    assert sum(served.values()) >= 8, served  # connect and 7 pings at least


def test_page_keeps_working_when_a_web_replica_stops(page, base_url, credentials):
    command = os.environ.get("E2E_STOP_REPLICA")
    if not command:
        pytest.fail(
            "Set E2E_STOP_REPLICA to a command that stops one web replica "
            "(make e2e sets it to stop web2 of the compose stack)."
        )
    sign_in(page, base_url, credentials)
    wait_for_frames(page, "pong", 1)
    connection_id = frames_of(page, "pong")[0]["connection_id"]

    subprocess.run(shlex.split(command), check=True, timeout=120)  # noqa: S603 - the operator's command

    # A call already on its way to the stopping replica can be lost, as behind a load
    # balancer without connection draining; the page must keep answering all the same.
    for _ in range(4):  # more than the replicas, so every remaining one answers
        ping_until_answered(page)
    assert page.get_attribute("#status", "data-state") == "connected"
    assert {frame["connection_id"] for frame in frames_of(page, "pong")} == {connection_id}
    page.screenshot(path=str(ARTIFACTS / "demo-page-one-replica.png"), full_page=True)
