"""Optional error tracking with Sentry: on when SENTRY_DSN is set, off (the SDK never starts) when
it is empty. Every event and breadcrumb goes through the same redaction as the logs before it
leaves the process (a request's query string, cookies and headers, a frame's local variables, a
log message). That holds whatever the SDK's own data-collection defaults are
(https://docs.sentry.io/platforms/python/data-management/sensitive-data/):
tests/error_tracking proves it with the SDK's real client."""

from typing import Any

import sentry_sdk
import structlog
from sentry_sdk.integrations.django import DjangoIntegration

from observability.redaction import redact

# The log context Sentry events carry as tags, so an event leads to its log lines.
LOG_CONTEXT_TAGS = ("request_id", "command", "connection_id")


def scrub_event(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """The event, redacted, tagged with the request's (or command's) log context."""
    context = structlog.contextvars.get_contextvars()
    tags = {name: str(context[name]) for name in LOG_CONTEXT_TAGS if context.get(name)}
    if tags:
        event["tags"] = {**(event.get("tags") or {}), **tags}
    return redact(event)


def scrub_breadcrumb(crumb: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    return redact(crumb)


def init_error_tracking(dsn: str, environment: str, **options: Any) -> bool:
    """Start the SDK when ``dsn`` is set; whether it started. ``options`` reach
    ``sentry_sdk.init`` (the tests pass a capturing transport)."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        # Errors only: performance tracing is Prometheus's job here, and its spans carry URLs.
        traces_sample_rate=0.0,
        **options,
    )
    return True
