"""CPU placement: the web processes on one CPU, PostgreSQL, the emulator and the load
generator (this process) on another, so CPU per operation measures the web processes and
not their neighbours (issue 17, item 2).

How: ``os.sched_setaffinity``, the syscall ``taskset`` makes, on every thread of a process
(an affinity mask is per thread on Linux; a thread or process inherits the mask of the thread
that created it). A child started inside ``children_on`` inherits the mask from its first
instruction, so gunicorn's workers, forked by its master, are on the web CPU from birth;
running processes (gunicorn workers, PostgreSQL's postmaster and backends) are moved thread
by thread. PostgreSQL's new backends fork from the postmaster and inherit its mask.
"""

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Placement:
    """Which CPUs each party may run on: ``web`` for gunicorn, ``rest`` for the others."""

    web: frozenset[int]
    rest: frozenset[int]

    @property
    def pinned(self) -> bool:
        return self.web != self.rest

    def describe(self) -> str:
        if not self.pinned:
            return f"unpinned: every party may run on CPUs {_cpus(self.web)}"
        return (
            f"pinned: gunicorn replicas (masters and workers) on CPU {_cpus(self.web)}; "
            f"PostgreSQL, the emulator and the load generator on CPU {_cpus(self.rest)}"
        )


def _cpus(cpus: Iterable[int]) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))


def allowed_cpus() -> frozenset[int]:
    return frozenset(os.sched_getaffinity(0))


def split(cpus: frozenset[int]) -> Placement:
    """The lowest CPU for the web, the next for the rest; everything anywhere with one CPU."""
    if len(cpus) < 2:
        return Placement(cpus, cpus)
    first, second = sorted(cpus)[:2]
    return Placement(frozenset({first}), frozenset({second}))


def unpinned(cpus: frozenset[int]) -> Placement:
    return Placement(cpus, cpus)


def threads(pid: int) -> list[int]:
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:
        return []


def move(pids: Iterable[int], cpus: frozenset[int]) -> None:
    """Every thread of each process onto ``cpus``; a process or thread gone meanwhile (a
    pooled connection closed) is skipped."""
    for pid in pids:
        for tid in threads(pid):
            try:
                os.sched_setaffinity(tid, cpus)
            except (ProcessLookupError, FileNotFoundError):
                continue


def children(pid: int) -> list[int]:
    """A process's child processes (the postmaster's backends, gunicorn's workers)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(child) for child in text.split()]


_spawn_lock = threading.Lock()


@contextmanager
def children_on(cpus: frozenset[int]) -> Iterator[None]:
    """Processes this thread starts inside the block inherit ``cpus``; this thread's own
    mask is restored after. The lock keeps two starts from mixing their masks."""
    with _spawn_lock:
        own = os.sched_getaffinity(0)
        os.sched_setaffinity(0, cpus)
        try:
            yield
        finally:
            os.sched_setaffinity(0, own)


def move_self(cpus: frozenset[int]) -> None:
    """The load generator: every thread of this process (threads started later inherit)."""
    move([os.getpid()], cpus)
