"""A simulated browser tab: signs in, fetches a one-time token, connects to the gateway and
pings at the configured pace, reconnecting with a fresh token whenever the socket closed."""

import itertools
from collections.abc import Iterator

from locust import HttpUser, constant, task
from locust.exception import StopUser

from loadtest.config import Credentials, LoadTestConfig
from loadtest.django_site import SignInRefused, Site, SiteError
from loadtest.gateway_socket import GatewaySocket

CONFIG = LoadTestConfig.from_env()
# Simulated users take the sign-ins in turn (one sign-in may serve several: the app caps its
# open connections at WS_MAX_CONNECTIONS_PER_USER).
_SIGN_INS: Iterator[Credentials] = itertools.cycle(CONFIG.credentials)


class GatewayUser(HttpUser):
    host = CONFIG.site_url
    # One ping (or one reconnect attempt) per interval.
    wait_time = constant(CONFIG.ping_interval)

    def on_start(self) -> None:
        self.client.verify = CONFIG.verify_tls
        self.site = Site(self.client, CONFIG.timeout)
        self.socket = GatewaySocket(
            self.environment.events.request, CONFIG.timeout, CONFIG.verify_tls
        )
        self.credentials = next(_SIGN_INS)
        self.signed_in = False
        self.pings = itertools.count(1)

    def on_stop(self) -> None:
        self.socket.close()

    @task
    def ping(self) -> None:
        if self.socket.open or self._connect():
            self.socket.ping(f"{id(self):x}-{next(self.pings)}")

    def _connect(self) -> bool:
        """Sign in if needed, fetch a fresh token and open the socket; failures are recorded
        in locust's statistics by the step that failed; the failed step is retried at the next
        interval, except a refused sign-in."""
        try:
            if not self.signed_in:
                self.site.sign_in(self.credentials)
                self.signed_in = True
            token = self.site.token()
        except SignInRefused:
            # Recorded as a failed "sign in"; another try would only extend the lockout.
            raise StopUser() from None
        except SiteError:
            return False
        cookie = "; ".join(f"{name}={value}" for name, value in self.client.cookies.items())
        return self.socket.connect(CONFIG.ws_url, token, CONFIG.channel, CONFIG.origin, cookie)
