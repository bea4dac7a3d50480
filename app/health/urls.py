"""Probe endpoints, answered in JSON.

- live: the process answers; touches nothing else, so a database outage does not restart pods.
- ready: the database answers and every migration is applied; a pod serves only then.
A startup probe uses ready with a larger failure threshold: the checks are the same.
"""

from django.http import JsonResponse
from django.urls import path
from health_check.views import HealthCheckView

from health.checks import MigrationsApplied, ReadyDatabase

READY_CHECKS = (ReadyDatabase, MigrationsApplied)


class JsonHealthCheckView(HealthCheckView):
    """JSON for probes, which send no Accept header or */* (the library would render HTML).

    A request that came through a proxy (X-Forwarded-For: the load balancer adds it to every
    request from the internet) gets the bare status only: the checks' detail names migrations
    and database errors. Kubelet probes and ALB health checks call the pod directly.
    """

    def render_to_response(self, context, **response_kwargs):
        status = response_kwargs.get("status", 200)
        if "X-Forwarded-For" in self.request.headers:
            return JsonResponse({"status": "ok" if status == 200 else "unavailable"}, status=status)
        return self.render_to_response_json(status)


app_name = "health"
urlpatterns = [
    path("live/", JsonHealthCheckView.as_view(checks=()), name="live"),
    path("ready/", JsonHealthCheckView.as_view(checks=READY_CHECKS), name="ready"),
]
