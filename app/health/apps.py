from django.apps import AppConfig


class HealthConfig(AppConfig):
    """Liveness, readiness and startup endpoints for probes."""

    name = "health"
