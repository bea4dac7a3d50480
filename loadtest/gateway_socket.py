"""One WebSocket connection, timed into locust's statistics.

Hand-written: locust has no WebSocket user of its own, and locust-plugins' (on the same
websocket-client) times nothing by itself and brings dependencies this project does not want
for one small class. Each step fires locust's ``request`` event with request_type "WS", so
connects and ping→pong round trips appear in locust's console, CSV and HTML report beside
the HTTP requests.
"""

import json
import ssl
import time
from urllib.parse import urlencode

import websocket
from locust.event import EventHook

from devtools.browser_handshake import CHROMIUM_EXTENSIONS, EXTENSIONS_HEADER
from loadtest.names import CONNECT, PING, REQUEST_TYPE


class HandshakeRefused(Exception):
    """The gateway answered the handshake with an HTTP status (Django's refusal)."""


class NoPong(Exception):
    """No pong with the ping's ref within the timeout."""


class GatewaySocket:
    def __init__(self, request_event: EventHook, timeout: float, verify_tls: bool | str) -> None:
        self.request_event = request_event
        self.timeout = timeout
        self.verify_tls = verify_tls
        self.socket: websocket.WebSocket | None = None

    @property
    def open(self) -> bool:
        return self.socket is not None and self.socket.connected

    def connect(self, ws_url: str, token: str, channel: str, origin: str, cookie: str) -> bool:
        """Open ``ws_url?ws_token=…&channel=…`` as a browser does; True once open.

        A browser sends its cookies for the site's domain and always offers
        permessage-deflate: the package refuses a $connect without either header (API
        Gateway passes the client's headers on to $connect and negotiates no extension)."""
        url = f"{ws_url}?{urlencode({'ws_token': token, 'channel': channel})}"
        started = time.perf_counter()
        try:
            self.socket = websocket.create_connection(
                url,
                timeout=self.timeout,
                origin=origin,
                header=[f"{EXTENSIONS_HEADER}: {CHROMIUM_EXTENSIONS}"],
                cookie=cookie,
                sslopt=self._sslopt(),
                enable_multithread=False,
            )
        except websocket.WebSocketBadStatusException as error:
            # Its message lists every response header: the status is what tells.
            self._fire(CONNECT, started, 0, HandshakeRefused(f"HTTP {error.status_code}"))
            return False
        except (websocket.WebSocketException, OSError) as error:
            self._fire(CONNECT, started, 0, error)
            return False
        self._fire(CONNECT, started, 0, None)
        return True

    def ping(self, ref: str) -> bool:
        """Send ``{"action": "ping"}`` and wait for its pong (other frames are skipped)."""
        frame = json.dumps({"action": "ping", "ref": ref})
        started = time.perf_counter()
        try:
            self.socket.send(frame)
            length = self._await_pong(ref, started + self.timeout)
        except (websocket.WebSocketException, OSError, NoPong) as error:
            self.close()
            self._fire(PING, started, 0, error)
            return False
        self._fire(PING, started, length, None)
        return True

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close(timeout=1)
            self.socket = None

    def _await_pong(self, ref: str, deadline: float) -> int:
        while (remaining := deadline - time.perf_counter()) > 0:
            self.socket.settimeout(remaining)
            try:
                text = self.socket.recv()
            except websocket.WebSocketTimeoutException:
                break
            if not text:
                raise websocket.WebSocketConnectionClosedException("closed by the server")
            if _is_pong(text, ref):
                return len(text)
        raise NoPong(f"no pong within {self.timeout:g} s")

    def _sslopt(self) -> dict:
        if self.verify_tls is False:
            return {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
        if isinstance(self.verify_tls, str):
            return {"ca_certs": self.verify_tls}
        return {}

    def _fire(self, name: str, started: float, length: int, error: Exception | None) -> None:
        self.request_event.fire(
            request_type=REQUEST_TYPE,
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=error,
            context={},
        )


def _is_pong(text: str | bytes, ref: str) -> bool:
    try:
        frame = json.loads(text)
    except ValueError:
        return False
    return isinstance(frame, dict) and frame.get("type") == "pong" and frame.get("ref") == ref
