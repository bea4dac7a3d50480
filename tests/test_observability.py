"""Redaction, the request id, and gunicorn's structured access log."""

import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
import structlog
from gunicorn.config import Config

from observability.gunicorn_logger import StructuredAccessLogger
from observability.logging_config import configure_logging
from observability.redaction import REDACTED, redact_secrets


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"ws_token": "abc"}, {"ws_token": REDACTED}),
        (
            {"gateway_secret": "s", "password": "p", "cookie": "c"},
            {"gateway_secret": REDACTED, "password": REDACTED, "cookie": REDACTED},
        ),
        ({"tokens_deleted": 3}, {"tokens_deleted": 3}),
        (
            {"event": "GET /ws/connect?ws_token=abc123&channel=lobby"},
            {"event": f"GET /ws/connect?ws_token={REDACTED}&channel=lobby"},
        ),
        ({"headers": {"Cookie": "sessionid=k1; csrftoken=k2"}}, {"headers": {"Cookie": REDACTED}}),
        ({"detail": ["password=hunter2"]}, {"detail": [f"password={REDACTED}"]}),
        ({"count": 2, "ok": True, "none": None}, {"count": 2, "ok": True, "none": None}),
        ({"event": '{"token": "abc"}'}, {"event": f'{{"token": "{REDACTED}"}}'}),
        ({"event": "{'ws_token': 'abc'}"}, {"event": f"{{'ws_token': '{REDACTED}'}}"}),
        ({"event": "Authorization: Bearer a.b.c"}, {"event": f"Authorization: {REDACTED}"}),
        (
            {"event": "postgres://app:S3cret@db:5432/app"},
            {"event": f"postgres://app:{REDACTED}@db:5432/app"},
        ),
        (
            {"event": "ws_token%3Dabc%26channel%3Dx"},
            {"event": f"ws_token%3D{REDACTED}%26channel%3Dx"},
        ),
        ({"database_dsn": "host=db password=x"}, {"database_dsn": REDACTED}),
    ],
)
def test_redaction(event, expected):
    assert redact_secrets(None, "info", event) == expected


def test_objects_are_rendered_redacted():
    class Request:
        def __str__(self) -> str:
            return "<WSGIRequest: GET '/ws/connect?ws_token=abc&sessionid=xyz'>"

    assert redact_secrets(None, "error", {"request": Request()}) == {
        "request": f"<WSGIRequest: GET '/ws/connect?ws_token={REDACTED}&sessionid={REDACTED}'>"
    }


def test_request_id_comes_from_the_header_or_is_generated(client):
    assert (
        client.get("/health/live/", headers={"X-Request-ID": "abc-123"})["X-Request-ID"]
        == "abc-123"
    )
    trace = "Root=1-5f84c7a9-1e8c3ba2d1e8a5a9e1b2c3d4"
    assert client.get("/health/live/", headers={"X-Amzn-Trace-Id": trace})["X-Request-ID"] == trace
    generated = client.get("/health/live/", headers={"X-Request-ID": "bad id with spaces"})[
        "X-Request-ID"
    ]
    assert len(generated) == 32 and generated.isalnum()


def test_console_format_for_local_work(capsys):
    config = configure_logging("console", "INFO")
    try:
        logging.config.dictConfig(config)
        structlog.get_logger("demo").info("hello.world", answer=42)
        line = capsys.readouterr().out.strip().splitlines()[-1]
        assert "hello.world" in line and "answer=42" in line
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
    finally:
        logging.config.dictConfig(configure_logging("json", "INFO"))


def test_gunicorn_access_log_is_one_structured_event(capsys):
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("logconfig_dict", configure_logging("json", "INFO"))  # as gunicorn.conf.py does
    logger = StructuredAccessLogger(cfg)
    response = SimpleNamespace(status="200 OK", headers=[("X-Request-ID", "req-1")], sent=12)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/ws/connect",
        "QUERY_STRING": "ws_token=secret-token&channel=lobby",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_USER_AGENT": "AmazonAPIGateway_abc",
        "HTTP_CONNECTIONID": "conn1",
    }
    logger.access(response, None, environ, timedelta(milliseconds=12.5))
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["event"] == "http.request"
    assert (record["status"], record["path"], record["request_id"], record["connection_id"]) == (
        200,
        "/ws/connect",
        "req-1",
        "conn1",
    )
    assert record["query"] == f"ws_token={REDACTED}&channel=lobby"
    assert record["duration_ms"] == 12.5
