"""Web processes under database faults: bounded waits, probes that tell the truth, recovery.

Against gunicorn (its config sets the server-side limits for web processes only) and, for
the restart, a PostgreSQL of the test's own that it stops and starts.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
import requests
from django.conf import settings
from django.db.backends.postgresql.base import DatabaseWrapper
from psycopg_pool import PoolTimeout

from devtools.ports import free_port
from health.checks import CHECK_TIMEOUT
from realtime.admission import _lock_key
from tests.conftest import database_url_for_tests, start_gunicorn
from tests.helm import support
from tests.support import gateway as gw
from tests.support.live_server import APP_DIR, GunicornServer

SCRIPT = APP_DIR.parent / "scripts" / "local_postgres.py"
LIMITS = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")
LOCK_WAITERS = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"


def test_readiness_answers_within_the_probes_timeout():
    """django-health-check waits a check's timeout plus one second; kubelet gives up after the
    probe's timeoutSeconds. Every readiness and startup probe of the chart must outlast it."""
    objects = support.render(support.values_for(support.CHART / "ci" / "minimal-values.yaml"))
    (web,) = support.web_workloads(objects)
    container = web["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "startupProbe"):
        assert CHECK_TIMEOUT.total_seconds() + 1 < container[probe]["timeoutSeconds"], probe


def server_limits(prelude: str) -> list[str]:
    """The limits a process's database connections carry, after ``prelude`` has run."""
    code = (
        f"{prelude}; import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); "
        f"print([(c.execute(f'SHOW {{n}}'), c.fetchone()[0])[1] for n in {LIMITS!r}])"
    )
    result = subprocess.run(  # noqa: S603 - our interpreter and code
        [sys.executable, "-c", code],
        cwd=APP_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.django_db
def test_web_processes_bound_statements_lock_waits_and_idle_transactions():
    web = server_limits("import runpy; runpy.run_path('gunicorn.conf.py')")
    assert web == "['20s', '5s', '30s']"
    # migrate and the cron commands keep none: an index build may rightly take minutes.
    assert server_limits("pass") == "['0', '0', '0']"


@pytest.fixture(scope="module")
def impatient_server(django_db_setup, django_db_blocker, session_management_api, tmp_path_factory):
    server = start_gunicorn(
        django_db_blocker,
        tmp_path_factory,
        workers=1,
        WS_MANAGEMENT_ENDPOINT_URL=session_management_api.url,
        DB_LOCK_TIMEOUT_MS="300",
    )
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_connect_behind_a_stalled_admission_lock_is_refused_as_busy(
    impatient_server, api_gateway, channels, browser
):
    """A stalled transaction holding an address's advisory lock: the connect waits
    DB_LOCK_TIMEOUT_MS, writes nothing and answers 503 (the client retries), instead of
    holding a thread without end."""
    source_ip = "203.0.113.80"

    def connect() -> int:
        query = urlencode({"ws_token": browser.token(), "channel": "lobby"})
        headers = gw.connect_headers(gw.new_connection_id(), browser.cookie, source_ip=source_ip)
        return requests.post(
            f"{impatient_server.url}/ws/connect?{query}", headers=headers, data=b"", timeout=30
        ).status_code

    first_line = len(impatient_server.log_lines())
    with psycopg.connect(database_url_for_tests()) as stalled, stalled.transaction():
        stalled.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key("ip", source_ip)])
        assert connect() == 503
    assert any("ws.connect.busy" in line for line in impatient_server.log_lines()[first_line:])
    assert connect() == 200  # the lock is gone


@pytest.fixture
def own_postgres():
    """A PostgreSQL of this test's own, on a free port, migrated; stopped afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="wsgateway-pg-fault-", dir="/var/tmp"))
    url = f"postgres://postgres@127.0.0.1:{free_port()}/faults"
    env = {**os.environ, "LOCAL_POSTGRES_DIR": str(directory)}

    def script(*args: str) -> None:
        subprocess.run([sys.executable, str(SCRIPT), *args], env=env, check=True)  # noqa: S603

    script("ensure", url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=APP_DIR,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    yield url, lambda: script("stop"), lambda: script("ensure", url)
    script("stop")
    shutil.rmtree(directory, ignore_errors=True)


def test_liveness_stays_up_and_readiness_returns_after_a_database_restart(own_postgres, tmp_path):
    url, stop_database, start_database = own_postgres
    server = GunicornServer(
        {"DATABASE_URL": url, "DEBUG": "false"}, tmp_path / "gunicorn.log", workers=1
    ).start()
    try:

        def status(path: str) -> int:
            return requests.get(f"{server.url}{path}", timeout=10).status_code

        assert status("/health/ready/") == 200
        stop_database()
        assert status("/health/live/") == 200  # kubelet would not restart the pod
        assert status("/health/ready/") == 500
        assert status("/health/live/") == 200
        start_database()
        # Ready again once the database answers; polled as kubelet does (every 5 s there).
        for _ in range(60):
            if status("/health/ready/") == 200:
                break
            time.sleep(0.5)
        assert status("/health/ready/") == 200
        assert status("/health/live/") == 200
    finally:
        server.stop()


def test_the_pool_connects_again_promptly_after_a_long_outage(own_postgres):
    """psycopg_pool retries a failed connect with doubling delays; with its default
    reconnect_timeout (5 minutes) a 10 s outage left its next try seconds after the database
    was back, and every request waited for it. Requests keep coming during the outage, as
    probes and callbacks do."""
    url, stop_database, start_database = own_postgres
    parts = urlsplit(url)
    wrapper = DatabaseWrapper(
        {**settings.DATABASES["default"], "NAME": "faults", "HOST": parts.hostname,
         "PORT": parts.port, "USER": "postgres", "PASSWORD": ""},
        alias="outage",
    )  # fmt: skip
    pool = wrapper.pool  # built from the settings exactly as Django builds it
    pool.open()  # as Django's get_new_connection does on first use
    try:
        with pool.connection() as connection:
            connection.execute("SELECT 1")
        stop_database()
        outage_ends = time.monotonic() + 10
        while time.monotonic() < outage_ends:
            with pytest.raises(PoolTimeout):
                pool.getconn(timeout=1)
        start_database()
        with pool.connection(timeout=3) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        wrapper.close_pool()


def test_while_the_database_is_unreachable_requests_answer_503_at_once(own_postgres, tmp_path):
    """A lost database opens the process's breaker (health/breaker.py): requests answer 503
    with Retry-After instead of each waiting the pool's timeout and queueing behind the
    others; the first request that reaches the database again closes it."""
    url, stop_database, start_database = own_postgres
    server = GunicornServer(
        {"DATABASE_URL": url, "DEBUG": "false"}, tmp_path / "gunicorn.log", workers=1
    ).start()

    def page() -> requests.Response:
        # A session cookie makes the demo page read the session table.
        return requests.get(
            f"{server.url}/", cookies={"sessionid": "x" * 32}, allow_redirects=False, timeout=10
        )

    try:
        assert page().status_code == 302  # to the sign-in page
        stop_database()
        first, second = page(), page()
        assert (first.status_code, first.headers.get("Retry-After")) == (503, "1")
        assert second.status_code == 503
        assert requests.get(f"{server.url}/health/live/", timeout=10).status_code == 200
        start_database()
        for _ in range(20):
            if page().status_code == 302:
                break
            time.sleep(0.5)
        assert page().status_code == 302
        events = [line for line in server.log_lines() if "db.breaker" in line]
        assert ["opened" in events[0], "closed" in events[-1], len(events)] == [True, True, 2]
    finally:
        server.stop()


def test_liveness_answers_while_every_request_thread_waits_on_the_database(own_postgres, tmp_path):
    """Liveness comes from gunicorn's master on the ops port (observability/ops_port.py), not
    from a request thread: with the only request thread waiting on a locked table (the chaos
    drill's table-lock fault), the request port cannot answer a probe, the ops port does, so
    the kubelet restarts nothing. Waits stay bounded (DB_LOCK_TIMEOUT_MS) either way."""
    url, _stop_database, _start_database = own_postgres
    server = GunicornServer(
        {"DATABASE_URL": url, "DEBUG": "false"}, tmp_path / "gunicorn.log", workers=1, threads=1
    ).start()
    try:
        with psycopg.connect(url) as locker, ThreadPoolExecutor(max_workers=1) as pool:
            locker.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
            # A session cookie makes the demo page read the locked table.
            waiting = pool.submit(
                requests.get,
                f"{server.url}/",
                cookies={"sessionid": "x" * 32},
                allow_redirects=False,
                timeout=30,
            )
            with psycopg.connect(url, autocommit=True) as observer:
                for _ in range(100):
                    if observer.execute(LOCK_WAITERS).fetchone()[0]:
                        break
                    time.sleep(0.1)
                assert observer.execute(LOCK_WAITERS).fetchone()[0] == 1
            with pytest.raises(requests.Timeout):  # queued behind the waiting thread
                requests.get(f"{server.url}/health/live/", timeout=2)
            assert requests.get(f"{server.ops_url}/health/live/", timeout=2).status_code == 200
            locker.rollback()
            assert waiting.result().status_code in (302, 503)
    finally:
        server.stop()
