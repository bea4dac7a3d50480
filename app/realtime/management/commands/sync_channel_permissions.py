import json

from django.core.management.base import BaseCommand

from realtime.channels import CHANNELS, sync_channel_permissions


class Command(BaseCommand):
    help = "Create or update the ChannelPermission rows listed in realtime/channels.py."

    def handle(self, *args, **options) -> None:
        created = sync_channel_permissions()
        self.stdout.write(
            json.dumps({"event": "channels.synced", "channels": len(CHANNELS), "created": created})
        )
