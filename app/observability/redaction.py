"""Keep tokens, cookies, secrets and passwords out of every log line.

A structlog processor, so it runs for our own events and for every stdlib logger
(Django, gunicorn, boto, the package) that goes through the shared formatter.
"""

import re
from datetime import datetime
from typing import Any

REDACTED = "[redacted]"

# A key is sensitive when its last word names a credential: "ws_token", "cookie",
# "gateway_secret", but not "tokens_deleted".
_SENSITIVE_KEY = re.compile(
    r"(^|[_-])(token|cookie|cookies|secret|secrets|password|passwd|authorization|"
    r"session_key|sessionid|csrftoken|csrfmiddlewaretoken|api_key|access_key|dsn)$",
    re.IGNORECASE,
)
# Credentials that ride inside text: a name ending in a credential word, then a separator
# (=, :, or their percent-encodings %3D and %3A), quoted or not (a query string, a cookie
# header, JSON, a dict's repr, a header dump), then the value, quoted or up to a delimiter.
_CREDENTIAL_NAME = (
    r"(?:ws_token|token|password|passwd|secret|sessionid|csrftoken|csrfmiddlewaretoken"
    r"|api_key|access_key|signature|credential)"
)
# A value in double or single quotes (JSON, a repr), whole.
_QUOTED = r"\"[^\"]*\"|'[^']*'"
_SENSITIVE_IN_TEXT = re.compile(
    r"(?P<name>[\w-]*" + _CREDENTIAL_NAME + r")"
    r"(?P<sep>[\"']?\s*(?:[=:]|%3[dDaA])\s*)"
    r"(?P<value>" + _QUOTED + r"|(?:(?!%26|%3[bB])[^&\s;,'\"])+)",
    re.IGNORECASE,
)
# An Authorization header's value is a scheme and a credential separated by a space (Bearer,
# Basic, AWS4-HMAC-SHA256 …): everything after the name, up to a quote or the line's end.
_AUTHORIZATION = re.compile(
    r"(?P<name>authorization)(?P<sep>[\"']?\s*[=:]\s*)(?P<value>" + _QUOTED + r"|[^\r\n'\"]+)",
    re.IGNORECASE,
)
# A URL's user-info password: postgres://user:PASSWORD@host (up to the last "@": a password
# pasted unencoded may hold "/" or ":").
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<value>[^@\s]+)(?=@)")


# Every pattern above needs one of these words, so text without any of them is returned as it
# is: most log text, and one cheap scan instead of three (redaction runs on every log line,
# the access log of every request included: docs/performance.md's profile).
_ANY_CREDENTIAL_WORD = re.compile(_CREDENTIAL_NAME + r"|authorization|://", re.IGNORECASE)


def _keep_quotes(match: re.Match) -> str:
    value = match["value"]
    quote = value[0] if value[:1] in {'"', "'"} else ""
    return f"{match['name']}{match['sep']}{quote}{REDACTED}{quote}"


def redact_text(text: str) -> str:
    """Replace the value of every credential written inside ``text``."""
    if not _ANY_CREDENTIAL_WORD.search(text):
        return text
    text = _AUTHORIZATION.sub(_keep_quotes, text)
    text = _SENSITIVE_IN_TEXT.sub(_keep_quotes, text)
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{REDACTED}", text)


def redact(value: Any) -> Any:
    """A copy of ``value`` (a log event, a Sentry event) with every credential replaced."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: REDACTED if _SENSITIVE_KEY.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact(item) for item in value)
    # A time carries no credential, and Sentry serialises its events' own timestamps itself.
    if value is None or isinstance(value, bool | int | float | datetime):
        return value
    # Objects (a request passed as ``extra``) would be rendered with repr(), which can
    # carry a query string: render them here, redacted.
    return redact_text(str(value))


def redact_secrets(_logger: Any, _method: str, event_dict: dict) -> dict:
    """structlog processor: redact sensitive keys and credentials embedded in text."""
    return redact(event_dict)
