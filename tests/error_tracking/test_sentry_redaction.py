"""Sentry with its real client and a capturing transport in place of the network: a request
carrying a token in each place one travels (the ws_token query parameter, the session cookie,
an Authorization header, API Gateway's X-Ws-Gateway-Secret) fails, and no event, breadcrumb or
frame variable that would leave the process contains any of them."""

import json
from unittest import mock
from wsgiref.util import setup_testing_defaults

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from config.wsgi import application
from observability import error_tracking
from observability.error_tracking import init_error_tracking

DSN = "https://public@sentry.example.com/1"
REQUEST_ID = "7f3c0e4a9b2d4c6e8a1f0b3d5c7e9a2b"
SECRETS = {
    "query": "wsTokenValue0123456789abcdef",
    "cookie": "sessionKeyValue0123456789abcd",
    "authorization": "bearerValue0123456789abcdefg",
    "gateway": "gatewaySecretValue0123456789ab",
}


class CapturingTransport(Transport):
    """Keeps every envelope the client would send."""

    def __init__(self, options=None) -> None:
        super().__init__(options)
        self.envelopes: list = []

    def capture_envelope(self, envelope) -> None:
        self.envelopes.append(envelope)

    def payloads(self) -> list[dict]:
        return [item.payload.json for e in self.envelopes for item in e.items if item.payload.json]


@pytest.fixture
def sentry(settings):
    settings.ROOT_URLCONF = "tests.error_tracking.urls"
    transport = CapturingTransport()
    assert init_error_tracking(DSN, "test", transport=transport, include_local_variables=True)
    yield transport
    sentry_sdk.get_client().close()
    # The SDK off again for the other tests: with no client its integrations' hooks (logging,
    # Django) return at once.
    sentry_sdk.get_global_scope().set_client(None)


def _failing_request() -> None:
    """Through the project's WSGI application, as gunicorn calls it: the Django test client's
    handler is not the WSGIHandler Sentry's integration instruments."""
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(
        PATH_INFO="/fail/",
        QUERY_STRING=f"ws_token={SECRETS['query']}&channel=lobby",
        HTTP_HOST="localhost",
        HTTP_AUTHORIZATION=f"Bearer {SECRETS['authorization']}",
        HTTP_X_WS_GATEWAY_SECRET=SECRETS["gateway"],
        HTTP_COOKIE=f"sessionid={SECRETS['cookie']}; csrftoken=x",
        HTTP_X_REQUEST_ID=REQUEST_ID,
    )
    statuses: list[str] = []
    body = application(environ, lambda status, _headers, *_: statuses.append(status))
    b"".join(body)
    assert statuses == ["500 Internal Server Error"]


def test_no_token_of_a_failing_request_reaches_a_sentry_event(sentry, transactional_db):
    _failing_request()
    sentry_sdk.flush()

    events = [p for p in sentry.payloads() if p.get("exception")]
    assert len(events) == 1, "the failure reached Sentry once"
    event = events[0]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["request"]["url"].endswith("/fail/")
    assert "channel=lobby" in event["request"]["query_string"]
    assert "X-Ws-Gateway-Secret" in event["request"]["headers"]
    assert event["tags"]["request_id"] == REQUEST_ID, "the event leads to the request's log lines"
    assert "channel=lobby" in event["request"]["query_string"]
    assert event["breadcrumbs"]["values"], "the log line became a breadcrumb"
    sent = json.dumps(sentry.payloads())
    leaked = {place: value for place, value in SECRETS.items() if value in sent}
    assert leaked == {}


def test_without_the_redaction_the_same_request_leaks_so_the_test_above_can_fail(
    sentry, transactional_db
):
    with mock.patch.object(error_tracking, "redact", side_effect=lambda value: value):
        _failing_request()
        sentry_sdk.flush()

    sent = json.dumps(sentry.payloads())
    leaked = {place for place, value in SECRETS.items() if value in sent}
    assert leaked >= {"query", "gateway"}


def test_an_empty_dsn_leaves_sentry_off():
    with mock.patch.object(sentry_sdk, "init") as init:
        assert init_error_tracking("", "test") is False
    init.assert_not_called()
