"""The session store and the user backend that read with one plain statement
(accounts.session_store, accounts.backends): the same answers as Django's own, for every
case Django's own distinguishes, and sessions of either kind keep working."""

from datetime import timedelta

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, get_user
from django.contrib.sessions.backends import db as django_store
from django.test import Client
from django.utils import timezone

from accounts.backends import UserBackend
from accounts.session_store import SessionStore

pytestmark = pytest.mark.django_db


def test_a_session_written_by_djangos_store_reads_the_same():
    theirs = django_store.SessionStore()
    theirs["cart"] = [1, 2]
    theirs.create()
    assert SessionStore(theirs.session_key).load() == {"cart": [1, 2]}
    ours = SessionStore()
    ours["cart"] = [3]
    ours.create()
    assert django_store.SessionStore(ours.session_key).load() == {"cart": [3]}


def test_an_expired_or_unknown_session_is_a_new_empty_one():
    store = SessionStore()
    store["x"] = 1
    store.create()
    store.model.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    expired = SessionStore(store.session_key)
    assert expired.load() == {}
    assert expired.session_key is None
    unknown = SessionStore("a" * 32)
    assert unknown.load() == {}
    assert unknown.session_key is None


def test_the_backend_finds_active_users_only(django_user_model):
    alice = django_user_model.objects.create_user("alice", password="alice-password-123")
    found = UserBackend().get_user(alice.pk)
    assert (found.pk, found.username, found.password) == (alice.pk, "alice", alice.password)
    assert found._state.adding is False  # a loaded row: save() updates, never inserts
    assert UserBackend().get_user(alice.pk + 1000) is None
    alice.is_active = False
    alice.save()
    assert UserBackend().get_user(alice.pk) is None


@pytest.mark.parametrize(
    "backend", ["accounts.backends.UserBackend", "django.contrib.auth.backends.ModelBackend"]
)
def test_sessions_of_either_backend_stay_signed_in_until_the_password_changes(
    backend, django_user_model, rf
):
    """Django checks the session's auth hash after the backend found the user: a password
    change signs the session out, whichever backend it names."""
    alice = django_user_model.objects.create_user("alice", password="alice-password-123")
    client = Client()
    client.force_login(alice, backend=backend)
    request = rf.get("/")
    request.session = SessionStore(client.cookies["sessionid"].value)
    assert request.session[BACKEND_SESSION_KEY] == backend
    assert get_user(request) == alice
    alice.set_password("another-password-456")
    alice.save()
    request.session = SessionStore(client.cookies["sessionid"].value)
    assert not get_user(request).is_authenticated


def test_signing_in_names_the_fast_backend(django_user_model):
    django_user_model.objects.create_user("alice", password="alice-password-123")
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "alice-password-123"}
    )
    assert response.status_code == 302, response.content[:300]
    session = SessionStore(client.cookies["sessionid"].value)
    assert session[BACKEND_SESSION_KEY] == "accounts.backends.UserBackend"
