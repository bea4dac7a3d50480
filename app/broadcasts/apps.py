from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    """Channel broadcasts, fanned out after commit and outside the request."""

    name = "broadcasts"
