"""Probe endpoints: JSON, cheap, and telling the truth about the database."""

from types import SimpleNamespace

import pytest
from django.db import connection
from health_check.exceptions import ServiceUnavailable
from psycopg_pool import PoolTimeout

from health import checks
from tests.support.live_server import GunicornServer


@pytest.fixture(autouse=True)
def _forget_cached_migration_result():
    checks._applied.clear()
    yield
    checks._applied.clear()


def test_live_answers_without_touching_the_database(client):
    # No django_db mark: any query would raise "Database access not allowed".
    response = client.get("/health/live/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {}


@pytest.mark.django_db
def test_ready_checks_database_and_migrations(client):
    response = client.get("/health/ready/", headers={"Accept": "*/*"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert sorted(response.json().values()) == ["OK", "OK"]
    assert any("MigrationsApplied" in key for key in response.json())


@pytest.mark.django_db
def test_ready_fails_while_a_migration_is_unapplied(client, monkeypatch):
    monkeypatch.setattr(checks, "unapplied_migrations", lambda alias: ["realtime.0002_new"])
    response = client.get("/health/ready/")
    assert response.status_code == 500
    assert response.json()["MigrationsApplied(alias='default')"] == (
        "Unavailable: 1 unapplied migrations, first realtime.0002_new"
    )


@pytest.mark.django_db
def test_ready_remembers_a_passed_migration_check(client, django_assert_max_num_queries):
    client.get("/health/ready/")
    # Only the database check's SELECT 1 is left once migrations have been seen applied.
    with django_assert_max_num_queries(1):
        assert client.get("/health/ready/").status_code == 200


def test_ready_fails_and_live_passes_when_the_database_is_down(tmp_path):
    server = GunicornServer(
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere", "DEBUG": "false"},
        tmp_path / "gunicorn.log",
        workers=1,
    ).start()
    try:
        import requests

        assert requests.get(f"{server.url}/health/live/", timeout=10).status_code == 200
        ready = requests.get(f"{server.url}/health/ready/", timeout=30)
        assert ready.status_code == 500
        assert "Database" in " ".join(ready.json())
    finally:
        server.stop()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health/ready/", "/health/live/"])
def test_through_a_proxy_probes_answer_a_bare_status(client, monkeypatch, path):
    """The internet reaches the pods only through the load balancer, which adds
    X-Forwarded-For: such a request learns up or down, never the checks, migration names or
    database errors. Kubelet and ALB health checks call the pod directly and keep the detail
    (kubelet) or need only the status code (ALB)."""
    monkeypatch.setattr(checks, "unapplied_migrations", lambda alias: ["realtime.0002_new"])
    proxied = client.get(path, headers={"X-Forwarded-For": "203.0.113.9"})
    direct = client.get(path)
    assert proxied.status_code == direct.status_code
    expected = "ok" if direct.status_code == 200 else "unavailable"
    assert proxied.json() == {"status": expected}
    assert "realtime.0002_new" not in proxied.content.decode()


def pending_like_the_real_check(alias):
    """What the real ``unapplied_migrations`` does to the pool (it reads django_migrations on
    this thread's connection), without loading the migration graph each time."""
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
    return ["realtime.0099_pending"]


@pytest.mark.django_db(transaction=True)
def test_10000_readiness_probes_with_a_migration_pending_leave_the_pool_as_it_was(
    client, monkeypatch
):
    """The migrations check runs on a throw-away thread of django-health-check's executor:
    a connection it takes from the pool must go back, or 6 probes empty a production pool
    (DB_POOL_MAX_SIZE) and readiness stays 500 after the migration is applied."""
    from django.db import connection

    monkeypatch.setattr(checks, "unapplied_migrations", pending_like_the_real_check)
    assert client.get("/health/ready/").status_code == 500  # warms the pool
    pool = connection.pool
    before = pool.get_stats()
    for _ in range(10_000):
        assert client.get("/health/ready/").status_code == 500
    after = pool.get_stats()
    assert after["pool_size"] == before["pool_size"]
    assert after.get("pool_available", 0) == before.get("pool_available", 0)

    monkeypatch.undo()  # the migration is applied
    assert client.get("/health/ready/").status_code == 200


@pytest.mark.django_db
def test_ready_passes_while_every_pool_connection_is_at_work(client):
    """A connect storm checks out every connection of a process's pool. The database is up:
    readiness must not pull the pod (its load would move to the others and make them busy
    too). The full chaos drill saw a readiness 500 outside its faults this way."""
    # A running pod has seen its migrations applied (remembered; no connection needed).
    assert client.get("/health/ready/").status_code == 200
    pool = connection.pool
    held = []
    try:
        while len(held) < pool.max_size:
            try:
                held.append(pool.getconn(timeout=1))
            except PoolTimeout:
                break  # the test's own transaction holds the others
        assert pool.get_stats()["pool_size"] == pool.max_size
        assert client.get("/health/ready/").status_code == 200
    finally:
        for each in held:
            pool.putconn(each)


def test_ready_fails_when_the_pool_is_short_of_connections_and_none_frees_up(monkeypatch):
    """A pool below its maximum that cannot hand out a connection is failing to connect."""

    class ShortPool:
        max_size = 6

        def open(self):
            pass

        def connection(self, timeout):
            raise PoolTimeout(f"couldn't get a connection after {timeout} sec")

        def get_stats(self):
            return {"pool_size": 2, "pool_available": 0}

    monkeypatch.setattr(checks, "connections", {"default": SimpleNamespace(pool=ShortPool())})
    with pytest.raises(ServiceUnavailable, match="PoolTimeout"):
        checks.ReadyDatabase().run()
