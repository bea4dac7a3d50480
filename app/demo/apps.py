from django.apps import AppConfig


class DemoConfig(AppConfig):
    """A page that exercises the whole path from a browser: sign in, token, connect, ping."""

    name = "demo"
