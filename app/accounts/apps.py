from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Signing in and out: the login views, failed sign-ins throttled (django-axes), the admin
    mounted where the settings say (or not at all)."""

    name = "accounts"

    def ready(self) -> None:
        from accounts import events  # noqa: F401 - connects the sign-in log events
