"""The Django site as a browser uses it: the sign-in form (with its CSRF token), then one-time
WebSocket tokens from the token endpoint. Through locust's HttpSession, so every request is in
locust's statistics, and a refusal that Django answers with 200 is marked failed."""

import re

from locust.clients import HttpSession

from loadtest.config import LOGIN_PATH, TOKEN_PATH, Credentials

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class SiteError(Exception):
    """The site refused or misunderstood a step; locust has recorded it as a failure."""


class Site:
    def __init__(self, http: HttpSession, timeout: float) -> None:
        self.http = http
        self.timeout = timeout

    def sign_in(self, credentials: Credentials) -> None:
        with self.http.get(
            LOGIN_PATH, name="sign-in page", timeout=self.timeout, catch_response=True
        ) as page:
            match = CSRF_FIELD.search(page.text or "")
            if page.ok and not match:
                page.failure("the sign-in page has no CSRF token")
        if not (page.ok and match):
            raise SiteError(f"sign-in page: {page.status_code}")
        # Django checks the Referer of an HTTPS POST against the site's own origin.
        with self.http.post(
            LOGIN_PATH,
            name="sign in",
            data={
                "username": credentials.username,
                "password": credentials.password,
                "csrfmiddlewaretoken": match[1],
            },
            headers={"Referer": page.url},
            timeout=self.timeout,
            catch_response=True,
        ) as answer:
            # Django's LoginView redirects on success and shows the form again on a refusal.
            if answer.ok and not answer.history:
                answer.failure(f"sign-in as {credentials.username!r} refused")
        if not (answer.ok and answer.history):
            raise SiteError(f"sign-in as {credentials.username!r}: {answer.status_code}")

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
            token = _token_of(answer) if answer.ok else None
            if not answer.ok:
                # The package answers its per-user rate limit with "403 Rate limit exceeded".
                answer.failure(f"{answer.status_code} {answer.text[:100]}")
            elif not token:
                answer.failure("the token endpoint's answer has no token")
        if not token:
            raise SiteError(f"token endpoint: {answer.status_code} {answer.text[:100]!r}")
        return token


def _token_of(answer) -> str | None:
    try:
        token = answer.json().get("token")
    except ValueError:
        return None
    return token if isinstance(token, str) and token else None
