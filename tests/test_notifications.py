"""The notifications feature: a saved notification reaches every open connection of its user,
and nobody else, once it is committed — from a model save anywhere in Django."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client

from features.notifications.models import Notification
from tests.conftest import Browser


@pytest.fixture
def other_browser(django_user_model) -> Browser:
    other = django_user_model.objects.create_user("carol", password="carol-password-123")
    return Browser(Client(), other)


def notifications(management_api, connection_id: str) -> list[dict]:
    return [f for f in management_api.received(connection_id) if f["type"] == "notification"]


@pytest.mark.django_db(transaction=True)
def test_a_notification_reaches_every_connection_of_its_user_only(
    connected, browser, other_browser, management_api
):
    first, second = connected("lobby"), connected("announcements")
    stranger = connected("lobby", who=other_browser)
    note = Notification.objects.create(user=browser.user, text="Your export is ready")
    for connection_id in (first, second):
        (frame,) = notifications(management_api, connection_id)
        assert (frame["text"], frame["notification_id"]) == ("Your export is ready", note.pk)
    assert notifications(management_api, stranger) == []


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_for_a_notification_that_is_rolled_back(connected, browser, management_api):
    connection_id = connected("lobby")
    with pytest.raises(RuntimeError), transaction.atomic():
        Notification.objects.create(user=browser.user, text="never")
        raise RuntimeError("rolled back")
    assert notifications(management_api, connection_id) == []


@pytest.mark.django_db(transaction=True)
def test_an_inactive_user_is_sent_nothing(connected, browser, management_api):
    connection_id = connected("lobby")
    browser.user.is_active = False
    browser.user.save(update_fields=["is_active"])
    Notification.objects.create(user=browser.user, text="after deactivation")
    assert notifications(management_api, connection_id) == []


@pytest.mark.django_db(transaction=True)
def test_the_notify_command_sends_and_says_what_it_did(connected, browser, management_api, capsys):
    connection_id = connected("lobby")
    call_command("notify", browser.user.username, "from a command")
    summary = json.loads(capsys.readouterr().out)
    assert (summary["event"], summary["ok"]) == ("command.summary", True)
    assert [f["text"] for f in notifications(management_api, connection_id)] == ["from a command"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "text"), [("nobody", "hi"), ("alice", ""), ("alice", "x" * 501)]
)
def test_the_notify_command_refuses_bad_input_clearly(user, username, text):
    with pytest.raises(CommandError):
        call_command("notify", username, text)
    assert not Notification.objects.exists()
