from django.conf import settings
from django.db import models


class Notification(models.Model):
    """Something to tell one user. Saving a new one pushes it to the user's open connections
    (``features.notifications.signals``); the row stays for the page to list."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="notification_user_recent")]

    def __str__(self) -> str:
        return f"Notification {self.pk} for user {self.user_id}"
