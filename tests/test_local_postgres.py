"""Which PostgreSQL `make test`, `make dev` and `make bench` use (scripts/local_postgres.py).

A URL that reaches a server is used as it is; a URL the user set that reaches nothing is an
error naming its host and port; make's default URL reaching nothing starts the project's own
server. Behaviour only: no timings.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from devtools.ports import free_port

REPO_DIR = Path(__file__).resolve().parents[1]
SCRIPT = REPO_DIR / "scripts" / "local_postgres.py"


@pytest.fixture
def server_dir():
    """A scratch folder for a project server; /var/tmp, so Debian's `postgres` user can enter
    it when the tests run as root (pytest's tmp_path is private to root)."""
    directory = Path(tempfile.mkdtemp(prefix="wsgateway-pg-test-", dir="/var/tmp"))
    yield directory
    run_script("stop", directory=directory)
    shutil.rmtree(directory, ignore_errors=True)


def run_script(*args: str, directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our script, fixed arguments
        [sys.executable, str(SCRIPT), *args],
        env={**os.environ, "LOCAL_POSTGRES_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def run_make(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [shutil.which("make") or "make", "--no-print-directory", "-C", str(REPO_DIR), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_reachable_url_is_used_as_it_is_and_nothing_is_started(server_dir):
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    name = f"wsgateway_reach_{uuid.uuid4().hex[:8]}"
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    result = run_script("ensure", url, "--explicit", directory=server_dir)
    try:
        assert result.returncode == 0, result.stderr
        assert "using it as it is" in result.stdout
        assert f"database {name} created" in result.stdout
        assert list(server_dir.iterdir()) == []  # no cluster of the project's was made
        psycopg.connect(url).close()
    finally:
        admin = urlunsplit(urlsplit(server)._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_an_unreachable_url_the_user_set_is_refused_with_its_host_and_port(server_dir):
    port = free_port()
    env = {**os.environ, "LOCAL_POSTGRES_DIR": str(server_dir)}
    env.pop("DATABASE_URL", None)
    result = run_make("db", f"DATABASE_URL=postgres://app:s3cret@127.0.0.1:{port}/app", env=env)
    assert result.returncode != 0
    assert f"nothing answers at 127.0.0.1:{port} (DATABASE_URL=" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr  # the password is never printed
    assert list(server_dir.iterdir()) == []  # no second database started silently


def test_make_marks_a_url_from_the_environment_as_the_users_and_its_default_as_not():
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    by_default = run_make("-n", "db", env=env)
    from_environment = run_make("-n", "db", env={**env, "DATABASE_URL": "postgres:///x"})
    assert by_default.returncode == from_environment.returncode == 0
    assert "local_postgres.py ensure" in by_default.stdout
    assert "--explicit" not in by_default.stdout
    assert "--explicit" in from_environment.stdout


def test_the_default_url_with_nothing_there_starts_the_projects_own_server(server_dir):
    port = free_port()
    url = f"postgres://postgres@127.0.0.1:{port}/fresh"
    first = run_script("ensure", url, directory=server_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "starting the project's own" in first.stdout
    assert "database fresh created" in first.stdout
    with psycopg.connect(url) as connection:
        # Loopback only: it listens on the URL's address and trusts nothing else.
        assert connection.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        rules = connection.execute(
            "SELECT DISTINCT address FROM pg_hba_file_rules WHERE type = 'host'"
        ).fetchall()
        assert {address for (address,) in rules} == {"127.0.0.1", "::1"}

    again = run_script("ensure", url, directory=server_dir)
    assert again.returncode == 0, again.stderr
    assert "using it as it is" in again.stdout
    assert "database fresh exists" in again.stdout

    stopped = run_script("stop", directory=server_dir)
    assert stopped.returncode == 0, stopped.stderr
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3).close()
