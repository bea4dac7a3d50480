import time
from datetime import timedelta

from django.utils import timezone

from observability.summary import SummaryCommand
from realtime.broadcasts.fanout import claim_abandoned, deliver
from realtime.broadcasts.models import Broadcast
from realtime.cleanup.batching import delete_in_batches


class Command(SummaryCommand):
    help = (
        "Deliver broadcasts that no web process is delivering: queued but never started, "
        "or whose deliverer's lease expired (it died or stalled), resuming after its last "
        "checkpoint; give up on one claimed too often; then delete finished ones past their "
        "retention. Safe to run in several copies at once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--pending-after", type=int, default=60, help="seconds (default: 60)")
        parser.add_argument(
            "--max-seconds",
            type=int,
            default=180,
            help="claim no new broadcast after this long (default: 180, inside the CronJob's "
            "activeDeadlineSeconds of 240; a fan-out cut off there resumes from its checkpoint "
            "on the next run)",
        )
        parser.add_argument(
            "--limit", type=int, default=100, help="broadcasts per run (default: 100)"
        )
        parser.add_argument(
            "--retention-days", type=int, default=7, help="keep finished broadcasts (default: 7)"
        )

    def run(
        self, *, pending_after: int, max_seconds: int, limit: int, retention_days: int, **_options
    ) -> dict[str, int]:
        totals = {"broadcasts": 0, "sent": 0, "gone": 0, "failed": 0}
        deadline = time.monotonic() + max_seconds
        while totals["broadcasts"] < limit and time.monotonic() < deadline:
            broadcast = claim_abandoned(timedelta(seconds=pending_after))
            if broadcast is None:
                break
            outcomes = deliver(broadcast)
            totals["broadcasts"] += 1
            for key in ("sent", "gone", "failed"):
                totals[key] += outcomes[key]
        finished = Broadcast.objects.filter(
            status__in=[Broadcast.Status.DONE, Broadcast.Status.FAILED],
            finished_at__lt=timezone.now() - timedelta(days=retention_days),
        )
        totals["deleted_broadcasts"] = delete_in_batches(finished, 1000)
        return totals
