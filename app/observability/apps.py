from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Structured JSON logs: request ids, connection context, redaction of secrets."""

    name = "observability"
