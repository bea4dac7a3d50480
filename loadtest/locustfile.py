"""The locustfile (``locust -f loadtest/locustfile.py``): the gateway user, configured from
LOADTEST_* variables, and the judge that sets locust's exit code. ``make loadtest`` runs it
headless through ``python -m loadtest``, which checks the variables and the site first."""

from locust import events
from locust.env import Environment

from loadtest.judge import Judge
from loadtest.user import GatewayUser

__all__ = ["GatewayUser"]


@events.init.add_listener
def _judge_the_run(environment: Environment, **_) -> None:
    Judge(environment)
