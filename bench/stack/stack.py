"""The system under test for one benchmark run: two gunicorn replicas on the benchmark's
database and one gateway emulator port, which scenarios point at one or both replicas, and
where each party runs (bench.stack.pinning)."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from bench.stack import database, pinning, postgres_cpus
from bench.stack.pinning import Placement
from bench.stack.processes import (
    APP_TARGET_URL,
    HOST,
    ChildProcess,
    emulator,
    gunicorn_replica,
    replica_port,
    total_cpu_seconds,
    worker_pids,
)
from devtools.console import say
from devtools.ports import free_port


@dataclass
class CpuUse:
    """CPU seconds spent by each part of the system between two snapshots."""

    web: float
    database: float
    emulator: float
    # The load generator: this process (every thread of it).
    loadgen: float


@dataclass
class Stack:
    log_dir: Path
    database_url: str = field(default_factory=database.database_url)
    emulator_port: int = field(default_factory=free_port)
    replicas: list[ChildProcess] = field(default_factory=list)
    gateway: ChildProcess | None = None
    placement: Placement = field(default_factory=lambda: pinning.unpinned(pinning.allowed_cpus()))
    postgres: postgres_cpus.PostgresCpus | None = None

    def find_postgres(self) -> None:
        """PostgreSQL is placed with the rest when its processes are visible from here."""
        try:
            self.postgres = postgres_cpus.find(self.database_url)
        except postgres_cpus.NotLocal as reason:
            say(f"PostgreSQL not pinned: it runs outside this machine's view ({reason})")

    def place(self, placement: Placement) -> None:
        """Move every running party; processes started later are started on their CPUs."""
        self.placement = placement
        pinning.move(self.replica_pids(), placement.web)
        pinning.move([self.gateway.pid] if self.gateway else [], placement.rest)
        if self.postgres is not None:
            self.postgres.place(placement.rest)
        pinning.move_self(placement.rest)
        database_note = "" if self.postgres else " (PostgreSQL: not pinned, see above)"
        say(placement.describe() + database_note)

    def start_replicas(self, count: int) -> None:
        for _ in range(count):
            replica = gunicorn_replica(self.database_url, self.emulator_port, self.log_dir)
            with pinning.children_on(self.placement.web):
                replica.start_process()
            self.replicas.append(replica.wait_until_ready())

    def replica_urls(self, replicas: int) -> list[str]:
        return [f"http://{HOST}:{replica_port(r)}" for r in self.replicas[:replicas]]

    def use_emulator(self, **env: str) -> None:
        """(Re)start the emulator on the stack's port with these EMULATOR_* variables."""
        self.stop_emulator()
        gateway = emulator(self.emulator_port, self.log_dir, **env)
        with pinning.children_on(self.placement.rest):
            gateway.start_process()
        self.gateway = gateway.wait_until_ready()

    def use_django(
        self, replicas: int, drop_disconnects: bool = False, target_url: str = APP_TARGET_URL
    ) -> None:
        """Integration calls go round-robin to the first ``replicas`` gunicorn replicas, to
        the app's callback view or (``PACKAGE_TARGET_URL``) the package's own."""
        upstreams = ",".join(f"{HOST}:{replica_port(r)}" for r in self.replicas[:replicas])
        self.use_emulator(
            EMULATOR_UPSTREAM=upstreams,
            EMULATOR_DROP_DISCONNECTS="true" if drop_disconnects else "false",
            EMULATOR_TARGET_URL=target_url,
        )

    def web_pids(self) -> list[int]:
        return [pid for replica in self.replicas for pid in worker_pids(replica)]

    def replica_pids(self) -> list[int]:
        """Masters and workers."""
        return [replica.pid for replica in self.replicas] + self.web_pids()

    def cpu_snapshot(self) -> dict[str, dict[int, float]]:
        groups = {
            "web": self.web_pids(),
            "database": database.backend_pids(self.database_url),
            "emulator": [self.gateway.pid] if self.gateway else [],
            "loadgen": [os.getpid()],
        }
        return {
            name: {pid: total_cpu_seconds([pid]) for pid in pids} for name, pids in groups.items()
        }

    def cpu_since(self, before: dict[str, dict[int, float]]) -> CpuUse:
        """Processes started meanwhile (a new pooled database connection) count from zero."""
        after = self.cpu_snapshot()
        spent = {
            name: sum(cpu - before[name].get(pid, 0.0) for pid, cpu in pids.items())
            for name, pids in after.items()
        }
        return CpuUse(**spent)

    def stop_emulator(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None

    def stop(self) -> None:
        self.stop_emulator()
        for replica in self.replicas:
            replica.stop()
        self.restore_postgres()

    def restore_postgres(self) -> None:
        """PostgreSQL serves others too: its original CPUs back, on success or failure."""
        if self.postgres is not None:
            self.postgres.restore()
            say(f"PostgreSQL back on CPUs {sorted(self.postgres.original)}")
            self.postgres = None
