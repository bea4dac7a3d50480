from django.conf import settings
from django.db import models


class Broadcast(models.Model):
    """One frame for every connection of a channel, and what became of its delivery.

    The row is the durable queue entry: the web process that wrote it delivers it after
    commit; ``manage.py deliver_broadcasts`` delivers any that a dead process left behind.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DONE = "done"
        # Claimed BROADCAST_MAX_ATTEMPTS times without finishing: given up, counts kept.
        FAILED = "failed"

    channel_name = models.CharField(max_length=128)
    payload = models.JSONField()
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # The lease (broadcasts.fanout): who delivers it, until when unless renewed, how many
    # claims it has had, and the last session served, so a new owner resumes after it.
    lease_owner = models.CharField(max_length=64, blank=True, db_default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(db_default=0)
    last_session_pk = models.BigIntegerField(db_default=0)

    class Meta:
        permissions = [("send_broadcast", "Can broadcast to a WebSocket channel")]
        indexes = [models.Index(fields=["status", "created_at"], name="broadcast_status_created")]

    def __str__(self) -> str:
        return f"Broadcast {self.pk} to {self.channel_name} ({self.status})"


class FrameRate(models.Model):
    """The shared token bucket of every fan-out of every replica (realtime.broadcasts.rate),
    kept as GCRA's one number: the time, in the database server's epoch seconds, at which the
    bucket is full again."""

    name = models.CharField(max_length=32, primary_key=True)
    full_at = models.FloatField()

    def __str__(self) -> str:
        return f"Frame rate {self.name}: full at {self.full_at:.3f}"
