"""The sizing guide's numbers, computed from the run's CPU costs per operation.

Connect rate drives web CPU and PostgreSQL writes; concurrent clients are only rows (API
Gateway holds the sockets) plus the reconnects its 2-hour limit forces; broadcast size
drives fan-out time.
"""

import math
from dataclasses import dataclass

from bench.report.figures import Figures

# Plan web pods and the database to run at most this busy, for bursts and failover.
UTILISATION = 0.6
# One web replica: 2 gunicorn workers x 4 threads (the chart's default), given 1 CPU.
REPLICA_CPUS = 1.0
WORKERS_PER_REPLICA = 2
POOL_PER_WORKER = 6
MIN_REPLICAS = 2
# API Gateway closes every connection after 2 hours: clients reconnect at least that often.
MAX_CONNECTION_SECONDS = 7200
# Rows written by one accepted connect: token UPDATE, session INSERT, attempt INSERT.
WRITES_PER_CONNECT = 3
CONNECT_RATES = (100, 500, 2000)
CLIENT_COUNTS = (10_000, 100_000, 1_000_000)


@dataclass(frozen=True)
class RateSizing:
    rate: float
    web_cpus: float
    replicas: int
    database_connections: int
    database_cpus: float
    writes_per_second: float


@dataclass(frozen=True)
class ClientSizing:
    clients: int
    reconnect_rate: float
    session_table_mib: float
    fanout_seconds_one_process: float


def for_rate(figures: Figures, rate: float) -> RateSizing:
    web_ms, db_ms = figures.median("connect.2.web_cpu_ms"), figures.median("connect.2.db_cpu_ms")
    web_cpus = rate * web_ms / 1000 / UTILISATION
    replicas = max(MIN_REPLICAS, math.ceil(web_cpus / REPLICA_CPUS))
    return RateSizing(
        rate=rate,
        web_cpus=web_cpus,
        replicas=replicas,
        database_connections=replicas * WORKERS_PER_REPLICA * POOL_PER_WORKER,
        database_cpus=rate * db_ms / 1000 / UTILISATION,
        writes_per_second=rate * WRITES_PER_CONNECT,
    )


def for_clients(figures: Figures, clients: int, largest_fanout: int) -> ClientSizing:
    row_bytes = figures.median("database.session_row_bytes")
    # Per-process fan-out rate: frames per CPU-second of the web worker doing it, not the
    # rate seen here, which the emulator (one core, shared) bounds.
    frames_per_cpu_second = 1e6 / figures.median(f"fanout.ours.{largest_fanout}.web_cpu_us")
    return ClientSizing(
        clients=clients,
        reconnect_rate=clients / MAX_CONNECTION_SECONDS,
        session_table_mib=clients * row_bytes / 1024**2,
        fanout_seconds_one_process=clients / frames_per_cpu_second,
    )
