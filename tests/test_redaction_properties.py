"""No secret reaches a log line, whatever its shape and whichever way it is logged.

Hypothesis draws a secret and writes it in each shape it takes in this app (a query string,
JSON, a dict's repr, a header dump, an Authorization header, a database URL, percent-encoded)
and logs it down each path a line takes (a structlog event, a field, a nested field, a
stdlib logger's %-arguments, an exception's traceback), through the real formatter of
``settings.LOGGING``. The rendered line must not contain the secret.
"""

import io
import json
import logging
import string
from urllib.parse import quote, urlencode

import pytest
import structlog
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

# What API Gateway secrets, tokens, session keys and generated passwords are made of.
SECRET_ALPHABET = string.ascii_letters + string.digits + "-_.~+/="

# Long, with every character class, so it cannot occur by chance in a log line's fixed text
# (timestamps, logger names, file paths of a traceback).
secrets_ = st.text(SECRET_ALPHABET, min_size=16, max_size=64).filter(
    lambda s: (
        any(c.isupper() for c in s) and any(c.islower() for c in s) and any(c.isdigit() for c in s)
    )
)

SHAPES = {
    "query string": lambda s: f"GET /ws/connect?channel=lobby&ws_token={s}&x=1",
    "urlencoded": lambda s: urlencode({"ws_token": s, "channel": "lobby"}),
    "percent-encoded": lambda s: quote(f"/ws/connect?ws_token={s}", safe=""),
    "json": lambda s: json.dumps({"token": s, "channel": "lobby"}),
    "dict repr": lambda s: repr({"ws_token": s}),
    "header dump": lambda s: repr({"Host": "app", "X-Ws-Gateway-Secret": s}),
    "header line": lambda s: f"X-Ws-Gateway-Secret: {s}",
    "cookie": lambda s: f"Cookie: csrftoken=abc; sessionid={s}",
    "bearer": lambda s: f"Authorization: Bearer {s}",
    "sigv4": lambda s: (
        "{'Authorization': 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/"
        f"execute-api/aws4_request, SignedHeaders=host, Signature={s}'}}"
    ),
    "database url": lambda s: f"postgres://app:{s}@db.example.internal:5432/app",
    "password field": lambda s: f"password={s}",
    "aws key": lambda s: f"aws_secret_access_key={s}",
}


def log_structlog_event(text: str) -> None:
    structlog.get_logger("redaction.test").warning(text)


def log_structlog_field(text: str) -> None:
    structlog.get_logger("redaction.test").warning("test.event", detail=text)


def log_nested_field(text: str) -> None:
    structlog.get_logger("redaction.test").warning("test.event", details={"items": [text]})


def log_stdlib_arguments(text: str) -> None:
    logging.getLogger("redaction.stdlib").warning("call failed: %s", text)


def log_exception(text: str) -> None:
    try:
        raise ValueError(text)
    except ValueError:
        structlog.get_logger("redaction.test").exception("test.failed")


PATHS = {
    "structlog event": log_structlog_event,
    "structlog field": log_structlog_field,
    "nested field": log_nested_field,
    "stdlib %-arguments": log_stdlib_arguments,
    "exception": log_exception,
}


@pytest.fixture(scope="module")
def rendered():
    """A handler with the formatter of settings.LOGGING on the root logger; returns a function
    that empties it and gives back what was written."""
    spec = dict(settings.LOGGING["formatters"]["structured"])
    formatter = spec.pop("()")(**spec)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)

    def take() -> str:
        text = stream.getvalue()
        stream.seek(0)
        stream.truncate()
        return text

    yield take
    root.removeHandler(handler)


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("shape", sorted(SHAPES))
# No deadline: a pass/fail test does not time (Hypothesis's 200 ms default failed a loaded run
# with DeadlineExceeded, 279 ms for the exception path), as test_callback_properties does.
@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(secret=secrets_)
def test_no_secret_reaches_a_log_line(rendered, shape, path, secret):
    rendered()
    PATHS[path](SHAPES[shape](secret))
    line = rendered()
    assert line, "nothing was logged"
    assert secret not in line
    assert quote(secret, safe="") not in line
