"""The example feature's channels and who may join them.

ALLOW_UNLISTED_CHANNELS is off, so a channel exists only if it is listed here; the data
migration 0001 writes these rows, and ``manage.py sync_channel_permissions`` re-applies
them idempotently after you edit this list.
"""

from django_aws_api_gateway_websockets.models import ChannelPermission

Access = ChannelPermission.Access

CHANNELS: dict[str, tuple[str, str]] = {
    "lobby": (Access.ALLOW_ALL, "Everyone who is signed in"),
    "announcements": (Access.ALLOW_ALL, "Read-only for most; broadcasts need a permission"),
    "staff": (Access.STAFF_ONLY, "Staff members only"),
}


def sync_channel_permissions(model=ChannelPermission) -> int:
    """Create or update a row for each channel; return how many rows were created."""
    created_count = 0
    for name, (access, description) in CHANNELS.items():
        _row, created = model.objects.update_or_create(
            channel_name=name, defaults={"access": access, "description": description}
        )
        created_count += int(created)
    return created_count
