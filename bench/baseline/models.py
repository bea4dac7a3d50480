from django.db import models


class BaselineRow(models.Model):
    """One row per baseline request: the cheapest database-writing request Django serves."""

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"baseline row {self.pk}"
