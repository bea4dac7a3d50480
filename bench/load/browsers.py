"""Signed-in browsers: a user, a Django session (the sign-in), a source address, tokens.

Connects come from many users and many loopback addresses (127.0.1.x), as from real
clients: the rate limit's advisory locks are per IP and per user, so one address for all
would serialise every connect. Runs in worker threads (the ORM is synchronous).
"""

import secrets
from dataclasses import dataclass

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connections
from django_aws_api_gateway_websockets.models import WebSocketToken, hash_session_key

# The backend the sign-in page records (the first of AUTHENTICATION_BACKENDS that signs in).
AUTH_BACKEND = "accounts.backends.UserBackend"


@dataclass(frozen=True)
class Browser:
    user_id: int
    session_key: str
    source_ip: str

    @property
    def cookie(self) -> str:
        return f"sessionid={self.session_key}"


def source_ip(index: int) -> str:
    """Loopback addresses 127.0.1.1 … 127.0.255.254: every one is this machine."""
    return f"127.0.{1 + index // 254}.{1 + index % 254}"


def sign_in(count: int) -> list[Browser]:
    """Users and their sessions, written as Django's login() writes them."""
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"bench-{n}-{secrets.token_hex(4)}") for n in range(count)]
    )
    browsers = []
    for index, user in enumerate(users):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = AUTH_BACKEND
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        browsers.append(Browser(user.pk, session.session_key, source_ip(index)))
    connections.close_all()
    return browsers


def issue_tokens(browsers: list[Browser], count: int) -> list[str]:
    """``count`` one-time tokens, the i-th for browser i mod len(browsers), as
    ``WebSocketToken.generate_token`` makes them, in one INSERT."""
    tokens = [
        WebSocketToken(
            token=secrets.token_hex(32),
            user_id=browsers[i % len(browsers)].user_id,
            session_key=hash_session_key(browsers[i % len(browsers)].session_key),
        )
        for i in range(count)
    ]
    WebSocketToken.objects.bulk_create(tokens)
    connections.close_all()
    return [token.token for token in tokens]
