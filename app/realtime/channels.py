"""Channels: features declare them, the layer keeps a ChannelPermission row for each.

``ALLOW_UNLISTED_CHANNELS`` is off, so a channel exists only if a feature declares it
(``realtime.api.channel``, from the feature's ``AppConfig.ready``). After every ``migrate``
and on ``manage.py sync_channel_permissions`` each declared channel's row is created or
updated, so every environment has them on deploy. Rows of channels no longer declared are
left alone (an admin may have made them); delete them in the admin.
"""

from dataclasses import dataclass

from django_aws_api_gateway_websockets.models import ChannelPermission

Access = ChannelPermission.Access


@dataclass(frozen=True)
class Channel:
    name: str
    access: str
    description: str


_declared: dict[str, Channel] = {}


def declare(name: str, access: str, description: str) -> Channel:
    """Declare a channel; declaring one name twice with different rules is an error."""
    channel = Channel(name, access, description)
    if _declared.get(name, channel) != channel:
        raise ValueError(f"channel {name!r} is declared twice with different rules")
    _declared[name] = channel
    return channel


def declared() -> list[Channel]:
    return list(_declared.values())


def sync_channel_permissions(model=ChannelPermission) -> int:
    """Create or update a row for each declared channel; return how many rows were created."""
    created_count = 0
    for channel in _declared.values():
        _row, created = model.objects.update_or_create(
            channel_name=channel.name,
            defaults={"access": channel.access, "description": channel.description},
        )
        created_count += int(created)
    return created_count
