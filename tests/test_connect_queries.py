"""The SQL statements of one $connect, pinned: it is the hottest write path of the app.

docs/performance.md measures what each statement costs; a change that adds one must show
up here. The count is through the real view, with the exact headers API Gateway sends.
"""

import pytest
from django.db import connection
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    ChannelPermission,
    ConnectionRateLimit,
    WebSocketSession,
    WebSocketToken,
)

from realtime import admission
from tests.support import gateway as gw

# The session cookie's session and its user (Django's middleware), then ws_open_connection:
# the gateway's check, the duplicate check, the locks, the counts, the token UPDATE and both
# INSERTs in one statement, which is its own transaction (no BEGIN, no COMMIT, no savepoint).
# (The package's own connect, with our rate limit around it, made 20; the previous version
# of this one 10.)
CONNECT_QUERIES = 3


@pytest.fixture
def warm_channel_cache(api_gateway, channels) -> None:
    """A serving process has looked the gateway and the channel up already (admission's
    per-process caches)."""
    admission.forget_gateways()
    admission.gateway(api_gateway.api_id)
    admission.channel_permission("lobby")


def test_one_connect_costs_a_fixed_number_of_queries(
    api_gateway, warm_channel_cache, browser, caller, django_assert_num_queries
):
    token = browser.token()
    connection_id = gw.new_connection_id()
    with django_assert_num_queries(CONNECT_QUERIES):
        response = caller.connect(
            connection_id, browser.cookie, {"ws_token": token, "channel": "lobby"}
        )
    assert response.status_code == 200, response.content
    assert WebSocketSession.objects.get(connection_id=connection_id).user == browser.user
    assert WebSocketToken.objects.get(token=token).used
    assert list(ConnectionRateLimit.objects.values_list("successful", flat=True)) == [True]


def test_cold_caches_cost_one_more_query_each_once(
    api_gateway, channels, browser, caller, django_assert_num_queries
):
    admission.forget_channel_permissions()
    admission.forget_gateways()
    for expected in (CONNECT_QUERIES + 2, CONNECT_QUERIES):
        query = {"ws_token": browser.token(), "channel": "lobby"}
        with django_assert_num_queries(expected):
            response = caller.connect(gw.new_connection_id(), browser.cookie, query)
        assert response.status_code == 200, response.content


def test_a_refused_connect_records_a_failed_attempt_and_spends_nothing(
    api_gateway, warm_channel_cache, browser, caller
):
    token = browser.token()
    response = caller.connect(
        gw.new_connection_id(), browser.cookie, {"ws_token": token, "channel": "staff"}
    )
    assert response.status_code == 403
    assert not WebSocketToken.objects.get(token=token).used
    assert not WebSocketSession.objects.exists()
    assert list(ConnectionRateLimit.objects.values_list("successful", flat=True)) == [False]


def test_a_token_of_another_signed_in_user_is_refused(
    api_gateway, warm_channel_cache, browser, caller, django_user_model
):
    """A token is bound to one browser session, and so to that session's user."""
    other = django_user_model.objects.create_user("mallory", password="mallory-password-1")
    token = WebSocketToken.generate_token(other, browser.session_key).token
    response = caller.connect(
        gw.new_connection_id(), browser.cookie, {"ws_token": token, "channel": "lobby"}
    )
    assert response.status_code == 400
    assert not WebSocketToken.objects.get(token=token).used


def test_a_changed_channel_row_applies_at_once_in_this_process(
    api_gateway, warm_channel_cache, browser, caller
):
    lobby = ChannelPermission.objects.get(channel_name="lobby")
    lobby.access = ChannelPermission.Access.STAFF_ONLY
    lobby.save()
    response = caller.connect(
        gw.new_connection_id(), browser.cookie, {"ws_token": browser.token(), "channel": "lobby"}
    )
    assert response.status_code == 403


def test_a_stale_cached_gateway_is_looked_up_again(
    api_gateway, warm_channel_cache, browser, caller
):
    """The gateway's row was replaced behind this process's back (another process deleted and
    registered it again): the connect still opens, on the new row."""
    with connection.cursor() as cursor:  # raw SQL: no signal reaches this process's cache
        table = ApiGateway._meta.db_table
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [api_gateway.pk])  # noqa: S608
    fresh = ApiGateway.objects.create(
        api_id=api_gateway.api_id,
        api_name=api_gateway.api_name,
        stage_name=api_gateway.stage_name,
        target_base_endpoint=api_gateway.target_base_endpoint,
    )
    connection_id = gw.new_connection_id()
    response = caller.connect(
        connection_id, browser.cookie, {"ws_token": browser.token(), "channel": "lobby"}
    )
    assert response.status_code == 200, response.content
    assert WebSocketSession.objects.get(connection_id=connection_id).api_gateway == fresh
