"""PostgreSQL's CPU placement: the postmaster and every process it forked (backends,
checkpointer, WAL writer...) moved together, and their original masks put back at the end.

Only when the server is a process of this machine that this process can see: the backend
serving a connection of ours must appear in /proc with our connection's client port in its
command line ("postgres: user db 127.0.0.1(PORT) ..."). A server in Docker (another PID
namespace) or on another host is left alone, and the caller says so.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.stack.pinning import children, move


class NotLocal(Exception):
    """The PostgreSQL server's processes are not visible here (Docker, another host)."""


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(stat[1])


def postmaster_pid(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as connection:
        pid, port = connection.execute("SELECT pg_backend_pid(), inet_client_port()").fetchone()
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (FileNotFoundError, PermissionError) as error:
            raise NotLocal(f"backend {pid} is not a process of this machine") from error
        if port is None or f"({port})" not in command:
            raise NotLocal(f"process {pid} here is not our backend (its command: {command!r})")
        return _parent(pid)


@dataclass
class PostgresCpus:
    """Moves the server's processes; ``restore`` puts each back on the postmaster's mask."""

    postmaster: int
    original: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        self.original = frozenset(os.sched_getaffinity(self.postmaster))

    def processes(self) -> list[int]:
        return [self.postmaster, *children(self.postmaster)]

    def place(self, cpus: frozenset[int]) -> None:
        move(self.processes(), cpus)

    def restore(self) -> None:
        self.place(self.original)


def find(url: str) -> PostgresCpus:
    """Raises NotLocal when the server cannot be placed from here."""
    return PostgresCpus(postmaster_pid(url))
