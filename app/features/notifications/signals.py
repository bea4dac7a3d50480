"""A new notification is pushed to every open connection of its user, once it is committed."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from features.notifications.models import Notification
from realtime import api


@receiver(post_save, sender=Notification, dispatch_uid="notifications.push")
def push(sender, instance: Notification, created: bool, **_kwargs) -> None:
    if created:
        api.send_to_user(
            instance.user,
            "notification",
            notification_id=instance.pk,
            text=instance.text,
            created_at=instance.created_at.isoformat(timespec="seconds"),
        )
