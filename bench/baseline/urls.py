from django.urls import path

from bench.baseline import views
from bench.baseline.package_view import PackageConnectView

urlpatterns = [
    path("insert/", views.insert, name="bench-insert"),
    path("broadcast/", views.broadcast, name="bench-broadcast"),
    # The emulator calls <EMULATOR_TARGET_URL>/connect: the package's view as shipped.
    path("package-ws/<slug:route>", PackageConnectView.as_view(), name="bench-package-ws"),
]
