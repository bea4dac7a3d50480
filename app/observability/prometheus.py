"""The gunicorn master's side of Prometheus's multiprocess mode (observability/metrics.py
defines the metrics the workers write): the directory, the aggregated exposition that the
ops port serves at ``/metrics``, and dead workers' files. Free of Django and of the metric
definitions, so the master creates no values of its own.
"""

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest, multiprocess

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# The directory this master made for itself (none when the variable named one).
_made: str | None = None


def prepare_directory() -> str:
    """The workers' directory, set in the environment they inherit: the one the variable
    names (the chart and compose set it on the tmpfs: the root filesystem is read-only),
    emptied, as a restarted master's old values would be summed in; else a new one, so
    masters on one host (the tests) never share."""
    path = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        for old in Path(path).glob("*.db"):
            old.unlink()
    else:
        global _made
        base = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
        path = _made = tempfile.mkdtemp(prefix="wsgateway-metrics-", dir=base)
    os.environ[MULTIPROC_DIR_VARIABLE] = path
    return path


def remove_made_directory() -> None:
    """At the master's exit: a directory it made goes with it."""
    if _made:
        shutil.rmtree(_made, ignore_errors=True)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or None


def exposition() -> bytes:
    """The text format of every worker's metrics, summed: what ``/metrics`` answers."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def worker_exited(pid: int) -> None:
    """A worker is gone: its live gauges ("livesum") leave the sum."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)
