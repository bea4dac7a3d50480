from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_channels(**_kwargs) -> None:
    """After every migrate: a row for each channel the features declare."""
    from realtime.channels import sync_channel_permissions

    sync_channel_permissions()


class RealtimeConfig(AppConfig):
    """The real-time layer below every feature: API Gateway's callbacks with every check
    and limit, the Management API client, channels and broadcasts (``realtime.api``)."""

    name = "realtime"

    def ready(self) -> None:
        post_migrate.connect(_sync_channels, sender=self, dispatch_uid="realtime.channels")
