"""The benchmark's own PostgreSQL database: created, migrated, emptied, seeded.

Never the tests' database: BENCH_DATABASE_URL names one of the benchmark's own (default
``wsbench``), created if missing.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from devtools.environment import env_str
from scripts.local_postgres import Target, create_database

REPO_DIR = Path(__file__).resolve().parents[2]
APP_DIR = REPO_DIR / "app"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/wsbench"
SETTINGS_MODULE = "bench.settings"
# Tables the scenarios fill; emptied before a run so every run starts alike.
_RUN_TABLES = (
    "django_aws_api_gateway_websockets_websocketsession",
    "django_aws_api_gateway_websockets_websockettoken",
    "django_aws_api_gateway_websockets_connectionratelimit",
    "broadcasts_broadcast",
    "bench_baseline_baselinerow",
    "django_session",
)


def database_url() -> str:
    return env_str("BENCH_DATABASE_URL", DEFAULT_URL)


def django_environment(url: str) -> dict[str, str]:
    """What a process needs to load the app with the benchmark's settings and database."""
    return {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join([str(APP_DIR), str(REPO_DIR)]),
    }


def ensure_database(url: str) -> None:
    """Create the database if it does not exist: the one helper `make db` uses too."""
    create_database(Target(url))


def migrate(url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=APP_DIR,
        env={**os.environ, **django_environment(url)},
        check=True,
    )


def empty_run_tables(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"TRUNCATE {', '.join(_RUN_TABLES)} RESTART IDENTITY CASCADE")


def backend_pids(url: str) -> list[int]:
    """The server processes serving the benchmark's database (the web processes' pools)."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    return [pid for (pid,) in rows]
