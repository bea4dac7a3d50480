from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession

from observability.summary import SummaryCommand
from realtime.cleanup.batching import update_in_batches


class Command(SummaryCommand):
    help = (
        "Mark sessions that are still 'connected' but older than API Gateway's maximum "
        "connection duration as disconnected ($disconnect is best-effort)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--max-age",
            type=int,
            default=settings.STALE_SESSION_MAX_AGE_SECONDS,
            help="Seconds since connect after which a session is stale (default: %(default)s)",
        )
        parser.add_argument("--batch-size", type=int, default=settings.CLEANUP_BATCH_SIZE)

    def run(self, *, max_age: int, batch_size: int, **_options) -> dict[str, int]:
        cutoff = timezone.now() - timedelta(seconds=max_age)
        stale = WebSocketSession.objects.filter(connected=True, created_on__lt=cutoff)
        swept = update_in_batches(stale, batch_size, connected=False, updated_on=timezone.now())
        still_connected = WebSocketSession.objects.filter(connected=True).count()
        return {"stale_sessions": swept, "connected_sessions": still_connected}
