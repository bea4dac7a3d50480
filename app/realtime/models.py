from django.db import models


class MessageBudget(models.Model):
    """A connection's token bucket for messages (realtime.limits.spend_message_budget).

    Keyed by the session's primary key, without a foreign key: the package owns the session
    table, and a budget outliving its session is harmless (cleanup_tokens deletes old ones).
    """

    session_id = models.BigIntegerField(primary_key=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["updated_at"], name="message_budget_updated")]

    def __str__(self) -> str:
        return f"MessageBudget of session {self.session_id}: {self.tokens:.1f}"
