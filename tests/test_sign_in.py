"""Sign-in: failed attempts are throttled per username and per client address (django-axes),
and the admin is optional and movable.

Through the real login view and middleware. Every password check costs about 0.3 CPU-s on
the pods that also serve API Gateway's callbacks, so a locked-out attempt must be refused
before the password is checked, even when it is the right one.
"""

import importlib

import pytest
from django.test import Client
from django.urls import clear_url_caches

LOGIN = "/accounts/login/"
LIMIT = 5  # LOGIN_FAILURE_LIMIT's default


def sign_in(username: str, password: str, forwarded_for: str) -> int:
    """A fresh browser posting the login form through the load balancer."""
    response = Client().post(
        LOGIN, {"username": username, "password": password}, HTTP_X_FORWARDED_FOR=forwarded_for
    )
    return response.status_code


def test_failed_sign_ins_lock_the_username_out_even_with_the_right_password(user, log_events):
    for number in range(LIMIT):
        sign_in("alice", "wrong-password", f"198.51.100.{number}")
    assert sign_in("alice", "alice-password-123", "198.51.100.99") == 429
    assert "auth.login.locked_out" in log_events()
    assert "auth.login.failed" in log_events()


def test_failed_sign_ins_from_one_address_lock_that_address_out(user):
    for number in range(LIMIT):
        sign_in(f"nobody{number}", "wrong-password", "203.0.113.50")
    assert sign_in("alice", "alice-password-123", "203.0.113.50") == 429
    assert sign_in("alice", "alice-password-123", "203.0.113.51") == 302  # another address


def test_a_client_written_forwarded_for_entry_does_not_dodge_the_address_lockout(user):
    """TRUSTED_PROXY_HOPS=1: the last entry is the one our proxy wrote."""
    for number in range(LIMIT):
        forged = f"192.0.2.{number}, 203.0.113.60"
        sign_in(f"nobody{number}", "wrong-password", forged)
    assert sign_in("alice", "alice-password-123", "192.0.2.200, 203.0.113.60") == 429


def test_ipv6_sign_ins_count_by_the_64(user):
    for number in range(LIMIT):
        sign_in(f"nobody{number}", "wrong-password", f"2001:db8:5:6::{number + 1}")
    assert sign_in("alice", "alice-password-123", "2001:db8:5:6::ffff") == 429


def test_below_the_limit_a_failed_sign_in_shows_the_form_and_the_right_password_works(user):
    for _ in range(LIMIT - 1):
        assert sign_in("alice", "wrong-password", "203.0.113.70") == 200  # the form again
    assert sign_in("alice", "alice-password-123", "203.0.113.70") == 302


@pytest.fixture
def reload_urls(settings):
    """Rebuild the URLconf after changing the admin settings, and restore it afterwards."""
    import accounts.urls
    import config.urls

    def reload() -> None:
        importlib.reload(accounts.urls)
        importlib.reload(config.urls)
        clear_url_caches()

    yield reload
    settings.ADMIN_ENABLED, settings.ADMIN_URL = True, "admin/"
    reload()


def test_the_admin_can_be_switched_off(settings, reload_urls, client):
    settings.ADMIN_ENABLED = False
    reload_urls()
    assert client.get("/admin/login/").status_code == 404


def test_the_admin_can_be_moved(settings, reload_urls, client):
    settings.ADMIN_URL = "ops-7f3a/"
    reload_urls()
    assert client.get("/ops-7f3a/login/").status_code == 200
    assert client.get("/admin/login/").status_code == 404
