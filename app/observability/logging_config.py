"""One JSON object per line on stdout, for Django, gunicorn and management commands.

structlog renders every record, including those of stdlib loggers, through one chain of
processors, so every line carries the same fields: timestamp, level, logger, event, and
the request context bound by ``observability.middleware`` (request_id, connection_id...).
``LOG_FORMAT=console`` swaps the JSON renderer for a readable one for local work.
"""

import logging
from typing import Any

import structlog

from observability.redaction import redact_secrets

SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    structlog.processors.format_exc_info,
    redact_secrets,
]


def _renderer(log_format: str) -> Any:
    if log_format == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    raise ValueError(f"LOG_FORMAT must be 'json' or 'console', not {log_format!r}")


def configure_logging(log_format: str, level: str) -> dict:
    """Configure structlog and return the stdlib ``LOGGING`` dict that shares its output."""
    renderer = _renderer(log_format)
    # Python warnings become log records too, so stdout stays one JSON object per line.
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": SHARED_PROCESSORS,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    renderer,
                ],
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "structured",
            }
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            # Django's own request logger repeats what our events already say.
            "django.request": {"level": "ERROR"},
            "botocore": {"level": "WARNING"},
            "boto3": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
            "gunicorn.error": {"level": level.upper(), "propagate": True},
            "gunicorn.access": {"level": "INFO", "propagate": True},
        },
    }
