"""The Prometheus metrics: one per signal, bounded labels, state counted without a query storm,
and the gunicorn master serving every worker's sum on the ops port (never on the app port)."""

import json
import re
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from observability import metrics
from realtime import gauges
from realtime.broadcasts.models import Broadcast
from realtime.management_api import Target, failure_reason, reply
from realtime.refusals import Refusal
from tests.conftest import start_gunicorn
from tests.support import gateway as gw

# Every label the app uses; each takes its values from an enum or a fixed set.
BOUNDED_LABELS = {
    "reason",
    "route",
    "outcome",
    "state",
    "status",
    "version",
    "color",
    "protocol_version",
}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_every_refusal_event_has_a_counter():
    assert {refusal.event for refusal in Refusal} <= set(metrics.REFUSAL_COUNTERS)


@pytest.mark.django_db
def test_a_refused_connect_is_counted_by_reason_and_timed(api_gateway, channels, browser, caller):
    refused = sample("wsgateway_channel_invalid_total", reason="channel_invalid")
    timed = sample("wsgateway_callback_duration_seconds_count", route="connect", outcome="refused")

    response = caller.connect(
        gw.new_connection_id(), browser.cookie, {"ws_token": browser.token(), "channel": "a b"}
    )

    assert response.status_code == 400
    assert sample("wsgateway_channel_invalid_total", reason="channel_invalid") == refused + 1
    assert (
        sample("wsgateway_callback_duration_seconds_count", route="connect", outcome="refused")
        == timed + 1
    )


@pytest.mark.django_db
def test_an_accepted_connect_and_a_ping_are_timed_and_the_reply_counted(
    connected, caller, management_api
):
    accepted = sample(
        "wsgateway_callback_duration_seconds_count", route="connect", outcome="accepted"
    )
    sent = sample("wsgateway_management_api_posts_total", outcome="sent")

    connection_id = connected()
    caller.message(connection_id, json.dumps({"action": "ping"}))

    assert (
        sample("wsgateway_callback_duration_seconds_count", route="connect", outcome="accepted")
        == accepted + 1
    )
    assert sample("wsgateway_management_api_posts_total", outcome="sent") == sent + 1
    assert sample("wsgateway_management_api_post_duration_seconds_count", outcome="sent") >= 1


@pytest.mark.django_db
def test_a_refused_post_counts_as_failed_with_its_reason(connected, management_api):
    connection_id = connected()
    session = WebSocketSession.objects.get(connection_id=connection_id)
    failed = sample("wsgateway_send_failed_total", reason="access_denied")
    posts = sample("wsgateway_management_api_posts_total", outcome="failed")
    management_api.refuse_with = (403, "AccessDeniedException", "not authorized")

    gateway = session.api_gateway
    reply([Target(session.pk, connection_id, gateway.api_id, gateway.stage_name)], "{}")

    assert sample("wsgateway_send_failed_total", reason="access_denied") == failed + 1
    assert sample("wsgateway_management_api_posts_total", outcome="failed") == posts + 1


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (429, "LimitExceededException", "throttled"),
        (403, "ForbiddenException", "forbidden"),
        (403, "AccessDeniedException", "access_denied"),
        (503, "ServiceUnavailable", "server_error"),
        (0, "ClientConnectorError", "network"),
        (0, "TimeoutError", "timeout"),
        (400, "<script>anything-a-server-says</script>", "other"),
    ],
)
def test_a_failed_posts_reason_is_one_of_a_fixed_set(status, code, reason):
    assert failure_reason(status, code) == reason


@pytest.mark.django_db
def test_the_state_gauges_count_sessions_and_broadcasts_in_a_few_queries(
    api_gateway, django_assert_max_num_queries, settings
):
    old = timezone.now() - timedelta(seconds=settings.STALE_SESSION_MAX_AGE_SECONDS + 60)
    for index, connected in enumerate([True, True, True, False]):
        WebSocketSession.objects.create(
            connection_id=f"gauge{index}=",
            channel_name="lobby",
            api_gateway=api_gateway,
            connected=connected,
        )
    WebSocketSession.objects.filter(connection_id="gauge0=").update(created_on=old)
    Broadcast.objects.create(channel_name="lobby", payload={})
    Broadcast.objects.create(channel_name="lobby", payload={}, status=Broadcast.Status.FAILED)

    # The sessions, the broadcasts, the applied migrations: a few queries, whatever the rows.
    with django_assert_max_num_queries(4):
        gauges.count_state()

    assert sample("wsgateway_sessions", state="connected") == 3
    assert sample("wsgateway_sessions", state="stale") == 1
    assert sample("wsgateway_broadcasts", status="pending") == 1
    assert sample("wsgateway_broadcasts", status="failed") == 1
    assert sample("wsgateway_broadcasts", status="sending") == 0
    assert sample("wsgateway_migrations_pending") == 0


# --- The real web process: two workers, the master's /metrics -------------------------------


@pytest.fixture(scope="module")
def metered_server(django_db_setup, django_db_blocker, session_management_api, tmp_path_factory):
    server = start_gunicorn(
        django_db_blocker,
        tmp_path_factory,
        workers=2,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path_factory.mktemp("metrics")),
        WS_MANAGEMENT_ENDPOINT_URL=session_management_api.url,
        WS_RATE_LIMIT_MAX_ATTEMPTS="100",
        APP_VERSION="1.2.3",
        DEPLOYMENT_COLOR="blue",
    )
    yield server
    server.stop()


def scrape(server) -> dict[tuple[str, tuple], float]:
    response = requests.get(f"{server.ops_url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


@pytest.mark.django_db(transaction=True)
def test_the_master_serves_every_workers_metrics_without_user_data(
    metered_server, api_gateway, channels, browser
):
    connection_ids = [gw.new_connection_id() for _ in range(8)]
    tokens = []
    for connection_id in connection_ids:
        token = browser.token()
        tokens.append(token)
        response = requests.post(
            f"{metered_server.url}/ws/connect?ws_token={token}&channel=lobby",
            headers=gw.connect_headers(connection_id, browser.cookie, source_ip="203.0.113.30"),
            data=b"",
            timeout=30,
        )
        assert response.status_code == 200, response.text
    # A refused one with a client-chosen channel name.
    requests.post(
        f"{metered_server.url}/ws/connect?ws_token=x&channel=probe-name-chosen-by-a-client",
        headers=gw.connect_headers(
            gw.new_connection_id(), browser.cookie, source_ip="203.0.113.30"
        ),
        data=b"",
        timeout=30,
    )

    samples = scrape(metered_server)

    connects = (
        "wsgateway_callback_duration_seconds_count",
        (("outcome", "accepted"), ("route", "connect")),
    )
    assert samples[connects] == 8  # summed over both workers
    assert (
        samples[
            (
                "wsgateway_build_info",
                (("color", "blue"), ("protocol_version", "2"), ("version", "1.2.3")),
            )
        ]
        == 1
    )
    label_values = {value for _name, labels in samples for _key, value in labels}
    assert not label_values & {*connection_ids, *tokens, "probe-name-chosen-by-a-client"}
    label_names = {key for _name, labels in samples for key, _value in labels}
    assert label_names <= {*BOUNDED_LABELS, "le"}
    assert all(re.fullmatch(r"wsgateway_[a-z_]+", name) for name, _ in samples)
    # The app's own port does not answer it: the Ingress routes only that one.
    assert requests.get(f"{metered_server.url}/metrics", timeout=10).status_code == 404
