from django.apps import AppConfig


class CleanupConfig(AppConfig):
    """Cron-driven cleanup: stale sessions, old disconnected sessions, expired tokens."""

    name = "cleanup"
