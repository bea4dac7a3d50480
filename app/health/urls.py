"""Probe endpoints, answered in JSON.

- live: the process answers; touches nothing else, so a database outage does not restart pods.
- ready: the database answers and every migration is applied; a pod serves only then.
A startup probe uses ready with a larger failure threshold: the checks are the same.
"""

from django.urls import path
from health_check.views import HealthCheckView

from health.checks import MigrationsApplied

READY_CHECKS = ("health_check.checks.Database", MigrationsApplied)


class JsonHealthCheckView(HealthCheckView):
    """JSON for probes, which send no Accept header or */* (the library would render HTML)."""

    def render_to_response(self, context, **response_kwargs):
        return self.render_to_response_json(response_kwargs.get("status", 200))


app_name = "health"
urlpatterns = [
    path("live/", JsonHealthCheckView.as_view(checks=()), name="live"),
    path("ready/", JsonHealthCheckView.as_view(checks=READY_CHECKS), name="ready"),
]
