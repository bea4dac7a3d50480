from django.urls import include, path

urlpatterns = [
    path("", include("demo.urls")),
    path("", include("realtime.urls")),
    path("", include("accounts.urls")),
    path("health/", include("health.urls")),
]
