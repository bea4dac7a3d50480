"""How big and how long each measurement is: the full run (`make bench`, under 20 minutes on
2 cores) and the smoke run (`make bench-smoke`, seconds, tiny sizes, proves the harness)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    runs: int
    # Signed-in browsers (users, sessions, source addresses) the connects come from.
    browsers: int
    # Closed loop: this many operations per run, this many in flight.
    connects_per_run: int
    inserts_per_run: int
    concurrency: int
    # Open loop: arrivals per second, and seconds at each rate.
    sweep_rates: tuple[int, ...]
    sweep_seconds: float
    roundtrip_clients: int
    roundtrip_rate: int
    roundtrip_messages: int
    fanout_sizes: tuple[int, ...]
    emulator_connections: int
    emulator_hold_seconds: float
    # --profile: seconds of closed-loop $connect load py-spy samples (raw stacks, then SVG).
    profile_seconds: float

    @property
    def fanout_clients(self) -> int:
        return max(self.fanout_sizes)


FULL = Plan(
    name="full",
    runs=3,
    browsers=250,
    # Sized so that a full run stays within 20 minutes on 2 cores: every capacity repeat runs
    # INSERT, ours and the package's, each pinned and unpinned, with 1 and 2 replicas.
    connects_per_run=300,
    inserts_per_run=1000,
    concurrency=32,
    sweep_rates=(50, 100, 150, 200, 250, 300, 400),
    sweep_seconds=3.0,
    roundtrip_clients=20,
    roundtrip_rate=50,
    roundtrip_messages=250,
    fanout_sizes=(1000, 5000, 10000),
    emulator_connections=10000,
    emulator_hold_seconds=2.0,
    profile_seconds=20.0,
)

SMOKE = Plan(
    name="smoke",
    runs=1,
    browsers=4,
    connects_per_run=8,
    inserts_per_run=20,
    concurrency=4,
    sweep_rates=(20, 40),
    sweep_seconds=0.5,
    roundtrip_clients=2,
    roundtrip_rate=20,
    roundtrip_messages=6,
    fanout_sizes=(5, 10),
    emulator_connections=20,
    emulator_hold_seconds=0.0,
    profile_seconds=2.0,
)
