from django.apps import AppConfig
from django.core.signals import got_request_exception


class HealthConfig(AppConfig):
    """Liveness, readiness and startup endpoints for probes; the database breaker."""

    name = "health"

    def ready(self) -> None:
        from health.breaker import mark_database_error

        got_request_exception.connect(mark_database_error, dispatch_uid="health.breaker")
