import json

from django.core.management.base import BaseCommand

from realtime.channels import declared, sync_channel_permissions


class Command(BaseCommand):
    help = "Create or update the ChannelPermission row of every channel the features declare."

    def handle(self, *args, **options) -> None:
        created = sync_channel_permissions()
        self.stdout.write(
            json.dumps(
                {"event": "channels.synced", "channels": len(declared()), "created": created}
            )
        )
