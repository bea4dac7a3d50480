from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_aws_api_gateway_websockets.models import WebSocketSession

from observability.summary import SummaryCommand
from realtime.cleanup.batching import delete_in_batches


class Command(SummaryCommand):
    help = (
        "Delete disconnected sessions older than a retention period, in batches "
        "(the package's clearWebSocketSessions deletes every one at once)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.DISCONNECTED_SESSION_RETENTION_SECONDS,
            help="Keep disconnected sessions for this many seconds (default: %(default)s)",
        )
        parser.add_argument("--batch-size", type=int, default=settings.CLEANUP_BATCH_SIZE)

    def run(self, *, older_than: int, batch_size: int, **_options) -> dict[str, int]:
        cutoff = timezone.now() - timedelta(seconds=older_than)
        old = WebSocketSession.objects.filter(connected=False, updated_on__lt=cutoff)
        return {"deleted_sessions": delete_in_batches(old, batch_size)}
