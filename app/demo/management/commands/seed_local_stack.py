"""Prepare a local stack (make dev, make up): the ApiGateway row the emulator's calls name,
and a demo user who may broadcast. Idempotent; never run it in production."""

import json
import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django_aws_api_gateway_websockets.models import ApiGateway


class Command(BaseCommand):
    help = "Create the local ApiGateway record and a demo user (development only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--api-id", default="local", help="the emulator's API id")
        parser.add_argument("--stage", default="local", help="the emulator's stage")
        parser.add_argument(
            "--target", default="http://localhost:8000/ws/", help="the integration URL base"
        )
        parser.add_argument("--username", default=os.environ.get("DEMO_USERNAME", "demo"))

    def handle(self, *args, api_id, stage, target, username, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_local_stack is for local stacks; DJANGO_ENV is production")
        # From the environment, not an argument, so it never shows in a process list.
        password = os.environ.get("DEMO_PASSWORD", "")
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
        self.stdout.write(
            json.dumps(
                {
                    "event": "local_stack.seeded",
                    "api_id": gateway.api_id,
                    "stage": gateway.stage_name,
                    "user": username,
                    "user_created": created,
                }
            )
        )
