"""The smoke test's browser: HTTP with cookies and CSRF, and WebSocket connections."""

import contextlib
import json
import re
import time
from urllib.parse import urlencode

import requests
from websockets.sync.client import ClientConnection, connect

from smoketest.config import SmokeConfig


class SmokeBrowser:
    def __init__(self, config: SmokeConfig) -> None:
        self.config = config
        self.http = requests.Session()
        self._sockets = contextlib.ExitStack()

    def close(self) -> None:
        """Close every WebSocket this browser opened (closing twice is harmless)."""
        self._sockets.close()

    def _url(self, path: str) -> str:
        return f"{self.config.base_url}{path}"

    def sign_in(self) -> None:
        login = self.http.get(self._url("/accounts/login/"), timeout=self.config.timeout)
        login.raise_for_status()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
        if not match:
            raise AssertionError("the sign-in page has no CSRF token")
        answer = self.http.post(
            self._url("/accounts/login/"),
            data={
                "username": self.config.username,
                "password": self.config.password,
                "csrfmiddlewaretoken": match[1],
            },
            headers={"Referer": self._url("/accounts/login/")},
            timeout=self.config.timeout,
        )
        answer.raise_for_status()
        if "sessionid" not in self.http.cookies:
            raise AssertionError(f"sign-in as {self.config.username!r} refused")

    def demo_page(self) -> str:
        page = self.http.get(self._url("/"), timeout=self.config.timeout)
        page.raise_for_status()
        if 'id="demo-config"' not in page.text:
            raise AssertionError("the page has no WebSocket client configuration")
        return page.text

    def token(self) -> str:
        answer = self.http.post(
            self._url("/api/ws-token/"),
            headers={
                "X-CSRFToken": self.http.cookies.get("csrftoken", ""),
                "Referer": self._url("/"),
            },
            timeout=self.config.timeout,
        )
        if answer.status_code != 200:
            raise AssertionError(
                f"token endpoint answered {answer.status_code}: {answer.text[:100]}"
            )
        return answer.json()["token"]

    def open_socket(self) -> ClientConnection:
        query = urlencode({"ws_token": self.token(), "channel": self.config.channel})
        cookie = "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
        return self._sockets.enter_context(
            connect(
                f"{self.config.ws_url}?{query}",
                additional_headers={"Cookie": cookie},
                origin=self.config.origin,
                open_timeout=self.config.timeout,
            )
        )

    def wait_for(self, socket: ClientConnection, predicate, what: str) -> dict:
        """The first frame that satisfies ``predicate``, or AssertionError after the timeout."""
        deadline = time.monotonic() + self.config.timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                frame = json.loads(socket.recv(timeout=remaining))
            except TimeoutError:
                break
            if predicate(frame):
                return frame
        raise AssertionError(f"no {what} within {self.config.timeout:g} s")
