"""Channel rules hold for every way a frame reaches a channel, and at the moment it is sent.

A broadcast goes only to a listed channel whose rule the sender passes (the rule `$connect`
and `join` apply), and reaches only recipients who pass that rule when it is fanned out:
rights taken away (staff removed, account deactivated, permission removed) stop delivery at
once, and rights given back restore it.
"""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django_aws_api_gateway_websockets.models import ChannelPermission, ChannelPermissionRule

from realtime.broadcasts.fanout import claim, deliver
from realtime.broadcasts.models import Broadcast
from tests.conftest import Browser


def broadcast_frames(management_api, connection_id: str) -> list[dict]:
    return [f for f in management_api.received(connection_id) if f["type"] == "broadcast"]


# --- who may send -----------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["staff", "smoke", "unlisted-room"])
def test_a_broadcaster_cannot_post_into_a_channel_they_could_not_join(
    connected, caller, management_api, broadcaster, log_events, channel
):
    sender = connected("announcements", Browser(Client(), broadcaster))
    response = caller.message(
        sender, json.dumps({"action": "broadcast", "channel": channel, "text": "injected"})
    )
    assert response.status_code == 403
    assert not Broadcast.objects.exists()  # nothing queued
    errors = [f for f in management_api.received(sender) if f["type"] == "error"]
    assert [e["error"] for e in errors] == ["permission denied"]
    assert "ws.permission.denied" in log_events()


def test_a_staff_broadcaster_may_post_into_the_staff_channel(
    connected, caller, management_api, broadcaster
):
    broadcaster.is_staff = True
    broadcaster.save()
    sender = connected("staff", Browser(Client(), broadcaster))
    response = caller.message(
        sender, json.dumps({"action": "broadcast", "channel": "staff", "text": "hello staff"})
    )
    assert response.status_code == 200
    assert Broadcast.objects.get().channel_name == "staff"


def test_a_broadcast_without_the_permission_answers_an_error_frame(
    connected, caller, management_api, log_events
):
    sender = connected("lobby")
    response = caller.message(sender, json.dumps({"action": "broadcast", "text": "hi"}))
    assert response.status_code == 403
    assert [f["error"] for f in management_api.received(sender)] == ["permission denied"]
    assert "ws.permission.denied" in log_events()


# --- who receives -----------------------------------------------------------------------------


def fan_out(channel: str) -> Broadcast:
    broadcast = Broadcast.objects.create(
        channel_name=channel, payload={"type": "broadcast", "text": "t"}
    )
    deliver(claim(broadcast.pk))
    broadcast.refresh_from_db()
    return broadcast


def test_a_user_removed_from_staff_stops_receiving_staff_broadcasts_and_gets_them_back(
    connected, management_api, user, browser
):
    user.is_staff = True
    user.save()
    listener = connected("staff", browser)

    fan_out("staff")
    assert len(broadcast_frames(management_api, listener)) == 1

    user.is_staff = False
    user.save()
    demoted = fan_out("staff")
    assert len(broadcast_frames(management_api, listener)) == 1  # nothing more
    assert demoted.sent == 0

    user.is_staff = True
    user.save()
    fan_out("staff")
    assert len(broadcast_frames(management_api, listener)) == 2


def test_a_deactivated_user_receives_nothing_even_in_an_open_channel(
    connected, management_api, user, browser
):
    listener = connected("lobby", browser)
    user.is_active = False
    user.save()
    fan_out("lobby")
    assert broadcast_frames(management_api, listener) == []


def test_a_user_who_loses_a_channel_permission_stops_receiving(
    connected, management_api, django_user_model, user, browser
):
    permission = Permission.objects.get(codename="send_broadcast")
    channel = ChannelPermission.objects.create(
        channel_name="moderators", access=ChannelPermission.Access.PERMISSIONS
    )
    ChannelPermissionRule.objects.create(channel_permission=channel).permissions.add(permission)
    user.user_permissions.add(permission)
    listener = connected("moderators", browser)

    fan_out("moderators")
    assert len(broadcast_frames(management_api, listener)) == 1

    user.user_permissions.remove(permission)
    fan_out("moderators")
    assert len(broadcast_frames(management_api, listener)) == 1

    user.user_permissions.add(permission)
    fan_out("moderators")
    assert len(broadcast_frames(management_api, listener)) == 2


def test_sessions_in_a_channel_that_is_no_longer_listed_receive_nothing(
    connected, management_api, browser
):
    listener = connected("lobby", browser)
    ChannelPermission.objects.filter(channel_name="lobby").delete()
    assert fan_out("lobby").sent == 0
    assert broadcast_frames(management_api, listener) == []
