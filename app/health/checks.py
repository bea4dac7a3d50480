"""Health checks that django-health-check 4.x does not ship."""

import dataclasses
import datetime
import threading

import psycopg
import structlog
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable
from psycopg_pool import PoolTimeout

log = structlog.get_logger(__name__)

# django-health-check waits a check's timeout plus one second. Kubelet's readiness and
# startup probes give up after 3 s (the chart's timeoutSeconds): answer well within them, so a
# database outage fails readiness instead of piling up probe threads and timed-out probes.
CHECK_TIMEOUT = datetime.timedelta(seconds=1)

_applied: set[str] = set()
_applied_lock = threading.Lock()


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The migrations on disk that the database has not applied, as ``app.name``."""
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


@dataclasses.dataclass
class ReadyDatabase(Database):
    """``SELECT 1`` on a connection from the pool, waiting at most ``CHECK_TIMEOUT`` for one;
    when none frees up in time because every connection the pool may open is at work, the
    database is up and this pod busy: ready.

    The library's check waits the pool's own timeout (DB_POOL_TIMEOUT) when the database is
    down, and django-health-check's view waits for its executor's threads before it answers:
    readiness took that long, past the probe's timeout.
    """

    timeout = CHECK_TIMEOUT

    def run(self) -> None:
        pool = connections[self.alias].pool
        pool.open()  # as Django does on first use: nothing if it is open already
        try:
            with pool.connection(timeout=self.timeout.total_seconds()) as connection:
                connection.execute("SELECT 1")
        except PoolTimeout as error:
            if not _every_connection_at_work(pool):
                raise ServiceUnavailable("Database unavailable (PoolTimeout)") from error
            # Busy, not down: failing readiness would move this pod's load onto the others
            # and make them busy too (the chaos drill saw it during a connect storm).
            log.info("health.ready.pool_busy", **pool.get_stats())
        except psycopg.Error as error:
            raise ServiceUnavailable(f"Database unavailable ({type(error).__name__})") from error


def _every_connection_at_work(pool) -> bool:
    """The pool holds all the connections it may open and every one is checked out. After
    the database goes away they fail their next query and are discarded, and reconnecting
    fails: the pool is then below its maximum size."""
    stats = pool.get_stats()
    return stats.get("pool_size", 0) >= pool.max_size and stats.get("pool_available", 0) == 0


@dataclasses.dataclass
class MigrationsApplied(HealthCheck):
    """Every migration on disk is applied to the database.

    Once it has passed, a process remembers it: migrations are not un-applied under a
    running release, and loading the migration graph on every probe would cost ~50 ms.
    """

    alias: str = DEFAULT_DB_ALIAS
    timeout = CHECK_TIMEOUT

    def run(self) -> None:
        if self.alias in _applied:
            return
        try:
            pending = unapplied_migrations(self.alias)
        finally:
            # django-health-check runs this on a throw-away executor thread: give its
            # connection back to the pool now, or every run keeps one for good.
            connections[self.alias].close()
        if pending:
            raise ServiceUnavailable(f"{len(pending)} unapplied migrations, first {pending[0]}")
        with _applied_lock:
            _applied.add(self.alias)
