import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from features.notifications.models import Notification


class Command(BaseCommand):
    help = "Notify a user: the text reaches every browser of theirs that is connected now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("text")

    def handle(self, *args, username: str, text: str, **options) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist as error:
            raise CommandError(f"no user named {username!r}") from error
        if not 0 < len(text) <= Notification._meta.get_field("text").max_length:
            raise CommandError("the text must have 1 to 500 characters")
        notification = Notification.objects.create(user=user, text=text)
        self.stdout.write(
            json.dumps({"event": "notification.created", "notification_id": notification.pk})
        )
