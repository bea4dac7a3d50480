"""A per-process cache of rows every ``$connect`` reads and that change only with an admin
edit or a deploy: the API gateway's row and a channel's rule.

Hand-written because what it must do is specific: a fresh model instance per lookup (no two
requests share one object), a missing row cached too, bounded (clients choose channel
names), and cleared at once in this process when a row is saved or deleted. Other processes
see a change within ``ttl_seconds``. Django's cache framework would pickle every entry.
"""

import time
from typing import Generic, TypeVar

from django.db import models
from django.db.models.signals import post_delete, post_save

Row = TypeVar("Row", bound=models.Model)


class RowCache(Generic[Row]):
    def __init__(
        self, model: type[Row], key_field: str, ttl_seconds: float = 10.0, max_entries: int = 1024
    ) -> None:
        self.model = model
        self.key_field = key_field
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._fields = [field.attname for field in model._meta.concrete_fields]
        self._entries: dict[str, tuple[float, dict | None]] = {}
        post_save.connect(self.forget, sender=model, weak=False)
        post_delete.connect(self.forget, sender=model, weak=False)

    def get(self, key: str) -> Row | None:
        now = time.monotonic()
        cached = self._entries.get(key)
        if cached is None or cached[0] <= now:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            rows = self.model._default_manager.filter(**{self.key_field: key})
            cached = (now + self.ttl_seconds, rows.values(*self._fields).first())
            self._entries[key] = cached
        values = cached[1]
        return None if values is None else self.model(**values)

    def forget(self, **_signal) -> None:
        self._entries.clear()
