"""A view that logs and fails, for the error-tracking test: the project's middleware runs, only the
URL list is the test's."""

import logging

from django.http import HttpRequest, HttpResponse
from django.urls import path

logger = logging.getLogger("tests.error_tracking")


def fail(request: HttpRequest) -> HttpResponse:
    token = request.GET["ws_token"]  # a local variable Sentry would send with the frame
    logger.warning("connect with ws_token=%s failed", token)  # a breadcrumb
    raise RuntimeError(f"refused {request.get_full_path()}")


urlpatterns = [path("fail/", fail)]
