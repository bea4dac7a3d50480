"""Keep tokens, cookies, secrets and passwords out of every log line.

A structlog processor, so it runs for our own events and for every stdlib logger
(Django, gunicorn, boto, the package) that goes through the shared formatter.
"""

import re
from typing import Any

REDACTED = "[redacted]"

# A key is sensitive when its last word names a credential: "ws_token", "cookie",
# "gateway_secret", but not "tokens_deleted".
_SENSITIVE_KEY = re.compile(
    r"(^|[_-])(token|cookie|cookies|secret|secrets|password|passwd|authorization|"
    r"session_key|sessionid|csrftoken|csrfmiddlewaretoken|api_key)$",
    re.IGNORECASE,
)
# Credentials that ride inside text: query strings, cookie headers, header dumps.
_SENSITIVE_IN_TEXT = re.compile(
    r"(?P<name>ws_token|token|password|secret|sessionid|csrftoken|csrfmiddlewaretoken"
    r"|x-ws-gateway-secret)(?P<sep>[=:]\s*)(?P<value>[^&\s;,'\"]+)",
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """Replace the value of every ``name=value`` credential in ``text``."""
    return _SENSITIVE_IN_TEXT.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: REDACTED if _SENSITIVE_KEY.search(str(key)) else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(item) for item in value)
    if value is None or isinstance(value, bool | int | float):
        return value
    # Objects (a request passed as ``extra``) would be rendered with repr(), which can
    # carry a query string: render them here, redacted.
    return redact_text(str(value))


def redact_secrets(_logger: Any, _method: str, event_dict: dict) -> dict:
    """structlog processor: redact sensitive keys and credentials embedded in text."""
    return _redact(event_dict)
