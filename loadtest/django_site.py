"""The Django site as a browser uses it: the sign-in form (with its CSRF token), then one-time
WebSocket tokens from the token endpoint. Through locust's HttpSession, so every request is in
locust's statistics, and a refusal that Django answers with 200 is marked failed."""

import re
from collections.abc import Callable
from typing import TypeVar

from locust.clients import HttpSession, ResponseContextManager

from loadtest.config import LOGIN_PATH, TOKEN_PATH, Credentials

T = TypeVar("T")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class SiteError(Exception):
    """The site failed a step (recorded in locust's statistics); worth another try."""


class SignInRefused(SiteError):
    """Wrong credentials or a lockout: trying again only prolongs django-axes' lockout."""


class Site:
    def __init__(self, http: HttpSession, timeout: float) -> None:
        self.http = http
        self.timeout = timeout

    def sign_in(self, credentials: Credentials) -> None:
        with self.http.get(
            LOGIN_PATH, name="sign-in page", timeout=self.timeout, catch_response=True
        ) as page:
            csrf, problem = _outcome(page, lambda: _csrf_of(page), "the page has no CSRF token")
        if problem:
            raise SiteError(f"sign-in page: {problem}")
        # Django checks the Referer of an HTTPS POST against the site's own origin.
        with self.http.post(
            LOGIN_PATH,
            name="sign in",
            data={
                "username": credentials.username,
                "password": credentials.password,
                "csrfmiddlewaretoken": csrf,
            },
            headers={"Referer": page.url},
            timeout=self.timeout,
            catch_response=True,
        ) as answer:
            # LoginView redirects on success, shows the form again on a refusal.
            _, problem = _outcome(
                answer, lambda: bool(answer.history), "refused: wrong username or password"
            )
        if problem:
            # 200: the form again (wrong credentials); 429: django-axes' lockout.
            error = SignInRefused if answer.status_code in {200, 429} else SiteError
            raise error(f"sign-in as {credentials.username!r}: {problem}")

    def token(self) -> str:
        with self.http.post(
            TOKEN_PATH,
            name="token",
            headers={
                "X-CSRFToken": self.http.cookies.get("csrftoken", ""),
                "Referer": f"{self.http.base_url}/",
            },
            timeout=self.timeout,
            catch_response=True,
        ) as answer:
            token, problem = _outcome(answer, lambda: _token_of(answer), "no token in it")
        if problem:
            raise SiteError(f"token: {problem}")
        return token


def _outcome(response: ResponseContextManager, value: Callable[[], T], missing: str):
    """``(value(), None)`` for a 2xx response with a value; else ``(None, problem)`` with the
    response marked failed. Called inside the ``with`` block (an exception raised there
    would leave the request unrecorded); the caller raises after it. The problem carries the
    start of the body: the package answers its per-user token limit "403 Rate limit
    exceeded"."""
    if not 200 <= response.status_code < 300:
        problem = f"{response.status_code} {(response.text or '')[:100]}".strip()
    elif not (found := value()):
        problem = missing
    else:
        return found, None
    response.failure(problem)
    return None, problem


def _csrf_of(page: ResponseContextManager) -> str | None:
    match = CSRF_FIELD.search(page.text or "")
    return match[1] if match else None


def _token_of(answer: ResponseContextManager) -> str | None:
    try:
        token = answer.json().get("token")
    except ValueError:
        return None
    return token if isinstance(token, str) and token else None
