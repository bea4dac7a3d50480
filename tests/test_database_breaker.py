"""The database breaker's rules (app/health/breaker.py) on a clock of the test's own; the
breaker under gunicorn with a stopped database is in test_database_faults.py."""

import psycopg
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import path
from psycopg_pool import PoolTimeout

from health.breaker import Breaker, is_unreachable


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def django_error(cause: Exception) -> OperationalError:
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


def test_a_lost_database_opens_it_and_one_trial_a_second_goes_through(log_events):
    clock = Clock()
    breaker = Breaker(retry_seconds=1.0, clock=clock)
    assert breaker.admits()
    breaker.record(reached=False)
    assert not breaker.admits()
    clock.now += 1.0
    assert breaker.admits()  # the trial
    assert not breaker.admits()  # the others wait for its outcome or the next second
    breaker.record(reached=False)  # the trial failed: still open
    clock.now += 1.0
    assert breaker.admits()
    breaker.record(reached=True)
    assert breaker.admits() and breaker.admits()
    assert log_events() == ["db.breaker.opened", "db.breaker.closed"]


def test_only_a_lost_connection_counts_not_one_slow_table():
    assert is_unreachable(django_error(PoolTimeout("couldn't get a connection after 3 s")))
    assert is_unreachable(django_error(psycopg.OperationalError("connection refused")))
    assert is_unreachable(django_error(psycopg.errors.AdminShutdown("terminating connection")))
    assert not is_unreachable(django_error(psycopg.errors.LockNotAvailable("lock timeout")))
    assert not is_unreachable(django_error(psycopg.errors.QueryCanceled("statement timeout")))
    assert not is_unreachable(ValueError("not a database error"))


def lock_timeout(request):
    raise django_error(psycopg.errors.LockNotAvailable("canceling statement: lock timeout"))


urlpatterns = [path("locked/", lock_timeout)]


@override_settings(ROOT_URLCONF=__name__)
def test_a_lock_timeout_answers_503_and_leaves_the_breaker_closed(monkeypatch):
    """A lock held on one table is no lost database: that call answers 503 (busy, try again),
    not 500, and the other requests go on."""
    recorded = []
    monkeypatch.setattr(Breaker, "record", lambda self, reached: recorded.append(reached))
    client = Client(raise_request_exception=False)
    answer = client.get("/locked/")
    assert (answer.status_code, answer["Retry-After"]) == (503, "1")
    assert recorded == []  # the breaker is told nothing: it stays closed
