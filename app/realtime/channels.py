"""The example feature's channels and who may join them.

ALLOW_UNLISTED_CHANNELS is off, so a channel exists only if it is listed here. After
editing the list, add a data migration that calls ``sync_channel_permissions`` (as 0001
and 0002 do), so every environment gets the rows on deploy; ``manage.py
sync_channel_permissions`` applies them by hand. Both are idempotent.
"""

from django_aws_api_gateway_websockets.models import ChannelPermission

Access = ChannelPermission.Access

CHANNELS: dict[str, tuple[str, str]] = {
    "lobby": (Access.ALLOW_ALL, "Everyone who is signed in"),
    "announcements": (Access.ALLOW_ALL, "Read-only for most; broadcasts need a permission"),
    "staff": (Access.STAFF_ONLY, "Staff members only"),
    # The smoke test's own channel, so its broadcasts never reach real users.
    "smoke": (Access.STAFF_ONLY, "make smoke-test; the smoke user must be staff"),
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
