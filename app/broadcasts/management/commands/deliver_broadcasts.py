from datetime import timedelta

from django.utils import timezone

from broadcasts.fanout import claim_abandoned, deliver
from broadcasts.models import Broadcast
from cleanup.batching import delete_in_batches
from cleanup.command import CleanupCommand


class Command(CleanupCommand):
    help = (
        "Deliver broadcasts that no web process is delivering: queued but never started, "
        "or started by a process that died; then delete finished ones past their retention. "
        "Safe to run in several copies at once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--pending-after", type=int, default=60, help="seconds (default: 60)")
        parser.add_argument("--sending-after", type=int, default=600, help="seconds (default: 600)")
        parser.add_argument(
            "--limit", type=int, default=100, help="broadcasts per run (default: 100)"
        )
        parser.add_argument(
            "--retention-days", type=int, default=7, help="keep finished broadcasts (default: 7)"
        )

    def run(
        self, *, pending_after: int, sending_after: int, limit: int, retention_days: int, **_options
    ) -> dict[str, int]:
        abandoned = claim_abandoned(
            timedelta(seconds=pending_after), timedelta(seconds=sending_after), limit
        )
        totals = {"broadcasts": len(abandoned), "sent": 0, "gone": 0, "failed": 0}
        for broadcast in abandoned:
            outcomes = deliver(broadcast)
            for key in ("sent", "gone", "failed"):
                totals[key] += outcomes[key]
        finished = Broadcast.objects.filter(
            status=Broadcast.Status.DONE,
            finished_at__lt=timezone.now() - timedelta(days=retention_days),
        )
        totals["deleted_broadcasts"] = delete_in_batches(finished, 1000)
        return totals
