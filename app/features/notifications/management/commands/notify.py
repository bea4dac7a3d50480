from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from features.notifications.models import Notification
from observability.summary import Figures, SummaryCommand


class Command(SummaryCommand):
    help = "Notify a user: the text reaches every browser of theirs that is connected now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("text")

    def run(self, *, username: str, text: str, **options) -> Figures:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist as error:
            raise CommandError(f"no user named {username!r}") from error
        if not 0 < len(text) <= Notification._meta.get_field("text").max_length:
            raise CommandError("the text must have 1 to 500 characters")
        return {"notification_id": Notification.objects.create(user=user, text=text).pk}
