"""A handler's reply never holds a request thread for long: one attempt, a bounded wait.

The Management API can hang (a regional brownout, a full send buffer answered slowly).
botocore's default made three attempts of 5 s connect + 10 s read each, so one reply held a
gunicorn thread for 30 s, past API Gateway's 29 s integration timeout, and eight such replies
held every thread of a pod. A reply (realtime.management_api's reply policy) is attempted
once within WS_REPLY_TIMEOUT_SECONDS; a reply that cannot be sent is logged as
``ws.send.failed`` with the reason, and the callback still answers.
"""

import json

from realtime.management_api import reply_policy


def test_a_hung_management_api_gets_one_attempt_and_the_callback_answers(
    connected, caller, management_api, settings, caplog
):
    settings.WS_REPLY_TIMEOUT_SECONDS = 0.5
    connection_id = connected("lobby")
    management_api.slow_connections.add(connection_id)  # never answered within the test
    try:
        response = caller.message(connection_id, json.dumps({"action": "ping"}))
    finally:
        management_api.release.set()
    assert response.status_code == 200
    assert management_api.attempts[connection_id] == 1  # not retried
    failed = [
        r.msg
        for r in caplog.records
        if isinstance(r.msg, dict) and r.msg["event"] == "ws.send.failed"
    ]
    assert [f["error_code"] for f in failed] == ["SocketTimeoutError"]


def test_the_reply_policy_is_bounded_by_the_setting(settings):
    settings.WS_REPLY_TIMEOUT_SECONDS = 2.0
    policy = reply_policy()
    assert policy.connect_timeout + policy.read_timeout <= 2.0
    assert policy.attempts == 1
