from django.urls import path

from bench.baseline import views

urlpatterns = [
    path("insert/", views.insert, name="bench-insert"),
    path("broadcast/", views.broadcast, name="bench-broadcast"),
]
