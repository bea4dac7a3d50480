"""The system under test for one benchmark run: two gunicorn replicas on the benchmark's
database and one gateway emulator port, which scenarios point at one or both replicas."""

from dataclasses import dataclass, field
from pathlib import Path

from bench.stack import database
from bench.stack.processes import (
    HOST,
    ChildProcess,
    emulator,
    gunicorn_replica,
    replica_port,
    total_cpu_seconds,
    worker_pids,
)
from devtools.ports import free_port


@dataclass
class CpuUse:
    """CPU seconds spent by each part of the system between two snapshots."""

    web: float
    database: float
    emulator: float


@dataclass
class Stack:
    log_dir: Path
    database_url: str = field(default_factory=database.database_url)
    emulator_port: int = field(default_factory=free_port)
    replicas: list[ChildProcess] = field(default_factory=list)
    gateway: ChildProcess | None = None

    def start_replicas(self, count: int) -> None:
        for _ in range(count):
            replica = gunicorn_replica(self.database_url, self.emulator_port, self.log_dir)
            self.replicas.append(replica.start())

    def replica_urls(self, replicas: int) -> list[str]:
        return [f"http://{HOST}:{replica_port(r)}" for r in self.replicas[:replicas]]

    def use_emulator(self, **env: str) -> None:
        """(Re)start the emulator on the stack's port with these EMULATOR_* variables."""
        self.stop_emulator()
        self.gateway = emulator(self.emulator_port, self.log_dir, **env).start()

    def use_django(self, replicas: int, drop_disconnects: bool = False) -> None:
        """Integration calls go round-robin to the first ``replicas`` gunicorn replicas."""
        upstreams = ",".join(f"{HOST}:{replica_port(r)}" for r in self.replicas[:replicas])
        self.use_emulator(
            EMULATOR_UPSTREAM=upstreams,
            EMULATOR_DROP_DISCONNECTS="true" if drop_disconnects else "false",
        )

    def web_pids(self) -> list[int]:
        return [pid for replica in self.replicas for pid in worker_pids(replica)]

    def cpu_snapshot(self) -> dict[str, dict[int, float]]:
        groups = {
            "web": self.web_pids(),
            "database": database.backend_pids(self.database_url),
            "emulator": [self.gateway.pid] if self.gateway else [],
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
