from observability.summary import Figures, SummaryCommand
from realtime.channels import declared, sync_channel_permissions


class Command(SummaryCommand):
    help = "Create or update the ChannelPermission row of every channel the features declare."

    def run(self, **options) -> Figures:
        return {"channels": len(declared()), "created": sync_channel_permissions()}
