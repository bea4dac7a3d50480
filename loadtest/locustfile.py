"""The locustfile (``locust -f loadtest/locustfile.py``): the gateway user, configured from
LOADTEST_* variables. ``make loadtest`` runs it headless through ``python -m loadtest``, which
checks the variables and the site first and prints the verdict afterwards."""

from loadtest.user import GatewayUser

__all__ = ["GatewayUser"]
