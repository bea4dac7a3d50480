from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_aws_api_gateway_websockets.conf import get_setting
from django_aws_api_gateway_websockets.models import ConnectionRateLimit, WebSocketToken

from observability.summary import SummaryCommand
from realtime.cleanup.batching import delete_in_batches
from realtime.limits import forget_old_budgets

# A connection lives at most 2 hours (API Gateway's limit): a message budget untouched for a
# day belongs to a closed one.
MESSAGE_BUDGET_AGE = timedelta(days=1)


class Command(SummaryCommand):
    help = (
        "Delete expired WebSocket tokens, old rate-limit records and the message budgets of "
        "closed connections in batches: the package's cleanupWebSocketTokens, with a JSON "
        "summary."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--token-age",
            type=int,
            default=None,
            help="Delete tokens older than this many seconds (default: 300, or the token "
            "expiry if longer, so a valid token is never deleted)",
        )
        parser.add_argument(
            "--rate-limit-age",
            type=int,
            default=7,
            help="Delete rate-limit records older than this many days (default: 7)",
        )
        parser.add_argument("--batch-size", type=int, default=settings.CLEANUP_BATCH_SIZE)

    def run(self, *, token_age, rate_limit_age: int, batch_size: int, **_options) -> dict[str, int]:
        expiry = get_setting("token_expiry_seconds")
        token_age = max(token_age if token_age is not None else 300, expiry)
        now = timezone.now()
        tokens = WebSocketToken.objects.filter(created_at__lt=now - timedelta(seconds=token_age))
        attempts = ConnectionRateLimit.objects.filter(
            attempt_time__lt=now - timedelta(days=rate_limit_age)
        )
        return {
            "deleted_tokens": delete_in_batches(tokens, batch_size),
            "deleted_rate_limit_records": delete_in_batches(attempts, batch_size),
            "deleted_message_budgets": delete_in_batches(
                forget_old_budgets(MESSAGE_BUDGET_AGE), batch_size
            ),
        }
