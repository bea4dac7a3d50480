"""A small in-process pool that runs fan-outs so no request waits for one.

Why a thread pool in the web process, with the row as a durable record, rather than a
queue worker: it adds no moving part to deploy, delivery starts milliseconds after commit,
and gunicorn's graceful shutdown waits for the pool (its threads are joined at exit). A
broadcast whose process died is still in the table, and the ``deliver_broadcasts`` cron
job sends it. docs/broadcasts.md has the trade-offs.
"""

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import structlog
from django.db import close_old_connections, connections

from realtime.broadcasts.fanout import claim, deliver

log = structlog.get_logger(__name__)

# Concurrent fan-outs per process; each runs BROADCAST_CONCURRENCY posts at once.
WORKERS = 2

_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_lock = threading.Lock()


def _get_executor() -> ThreadPoolExecutor:
    """One pool per process: a pool made before gunicorn forked has no threads in the child."""
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="broadcast")
            _executor_pid = os.getpid()
        return _executor


def _run(broadcast_id: int) -> None:
    close_old_connections()
    try:
        broadcast = claim(broadcast_id)
        if broadcast is not None:
            deliver(broadcast)
    except Exception:
        log.exception("broadcast.error", broadcast_id=broadcast_id)
    finally:
        # Give the connection back to the pool; this thread may idle for a long time.
        connections.close_all()


def submit(broadcast_id: int) -> Future:
    return _get_executor().submit(_run, broadcast_id)
