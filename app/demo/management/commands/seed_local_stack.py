"""Prepare a local stack (make dev, make up): the ApiGateway row the emulator's calls name,
and a demo user who may broadcast. Idempotent; never run it in production."""

import environ
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import CommandError
from django_aws_api_gateway_websockets.models import ApiGateway

from observability.summary import Figures, SummaryCommand

env = environ.Env()


class Command(SummaryCommand):
    help = "Create the local ApiGateway record and a demo user (development only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--api-id", default="local", help="the emulator's API id")
        parser.add_argument("--stage", default="local", help="the emulator's stage")
        parser.add_argument(
            "--target", default="http://localhost:8000/ws/", help="the integration URL base"
        )
        parser.add_argument("--username", default=env.str("DEMO_USERNAME", default="demo"))

    def run(self, *, api_id: str, stage: str, target: str, username: str, **_options) -> Figures:
        if settings.PRODUCTION:
            raise CommandError("seed_local_stack is for local stacks; DJANGO_ENV is production")
        # From the environment, not an argument, so it never shows in a process list.
        password = env.str("DEMO_PASSWORD", default="")
        if not password:
            raise CommandError("Set DEMO_PASSWORD to the demo user's password")
        gateway, _ = ApiGateway.objects.update_or_create(
            api_id=api_id,
            defaults={
                "api_name": f"local-{api_id}",
                "stage_name": stage,
                "target_base_endpoint": target,
            },
        )
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        # The environment is the source of truth for a local stack: always (re)set it.
        user.set_password(password)
        user.save()
        user.user_permissions.add(Permission.objects.get(codename="send_broadcast"))
        return {
            "api_id": gateway.api_id,
            "stage": gateway.stage_name,
            "user": username,
            "user_created": created,
        }
