"""Batched updates and deletes that two concurrent copies of a job can run safely.

Each batch locks its rows with FOR UPDATE SKIP LOCKED, so a second copy of the same
cron job takes other rows instead of waiting or touching the same ones, and each batch
commits on its own, so a long run never holds many locks.
"""

from django.db import transaction
from django.db.models import QuerySet


def _next_batch(queryset: QuerySet, batch_size: int) -> list[int]:
    return list(
        queryset.select_for_update(skip_locked=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch_size]
    )


def update_in_batches(queryset: QuerySet, batch_size: int, **values) -> int:
    """Apply ``values`` to every row of ``queryset``; return how many rows changed.

    The filter must stop matching a row once it is updated, or the loop would not end.
    """
    total = 0
    while True:
        with transaction.atomic():
            pks = _next_batch(queryset, batch_size)
            if not pks:
                return total
            total += queryset.model.objects.filter(pk__in=pks).update(**values)


def delete_in_batches(queryset: QuerySet, batch_size: int) -> int:
    """Delete every row of ``queryset``; return how many rows were deleted."""
    total = 0
    while True:
        with transaction.atomic():
            pks = _next_batch(queryset, batch_size)
            if not pks:
                return total
            _deleted, by_model = queryset.model.objects.filter(pk__in=pks).delete()
            total += by_model.get(queryset.model._meta.label, 0)
