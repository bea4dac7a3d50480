"""The production URLs, plus the benchmark's baseline endpoints under ``bench/``."""

from django.urls import include, path

from config.urls import urlpatterns as production_urlpatterns

urlpatterns = [
    *production_urlpatterns,
    path("bench/", include("bench.baseline.urls")),
]
