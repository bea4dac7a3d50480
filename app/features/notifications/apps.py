from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Per-user notifications: saving one pushes it to every open connection of its user."""

    name = "features.notifications"
    label = "notifications"

    def ready(self) -> None:
        from features.notifications import signals  # noqa: F401 - connects the push
