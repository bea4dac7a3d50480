"""The kubelet's view of the web replicas: their liveness and readiness probes, at the chart's
settings (helm/values.yaml), recorded so the drill can tell whether Kubernetes would have
restarted a pod (liveness failing ``failureThreshold`` times in a row) and when it was ready
again (docker's healthcheck restarts nothing, so the drill asks the question itself).
"""

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

# helm/values.yaml: livenessProbe (gunicorn's master, on the ops port) and readinessProbe.
LIVENESS = {
    "path": "/health/live/",
    "port": "ops",
    "period": 10.0,
    "timeout": 3.0,
    "failure_threshold": 3,
}
READINESS = {"path": "/health/ready/", "port": "http", "period": 2.0, "timeout": 3.0}


@dataclass(frozen=True)
class Probe:
    replica: str
    kind: str  # "live" or "ready"
    at: float
    ok: bool


@dataclass
class Prober:
    ports: dict[str, dict[str, int]]  # replica -> {"http"|"ops": its port on 127.0.0.1}
    results: list[Probe] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        async with aiohttp.ClientSession(trust_env=False) as http:
            await asyncio.gather(
                *(
                    self._every(http, stop, replica, kind, settings)
                    for replica in self.ports
                    for kind, settings in (("live", LIVENESS), ("ready", READINESS))
                )
            )

    async def _every(
        self, http: aiohttp.ClientSession, stop: asyncio.Event, replica: str, kind: str, probe
    ) -> None:
        url = f"http://127.0.0.1:{self.ports[replica][probe['port']]}{probe['path']}"
        while not stop.is_set():
            at = time.time()
            try:
                async with http.get(
                    url,
                    headers={"Host": "localhost"},
                    timeout=aiohttp.ClientTimeout(total=probe["timeout"]),
                ) as answer:
                    ok = 200 <= answer.status < 400  # the kubelet's rule for httpGet
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            self.results.append(Probe(replica, kind, at, ok))
            await asyncio.sleep(max(0.0, probe["period"] - (time.time() - at)))

    def would_restart(self, replica: str, start: float, end: float) -> bool:
        """Liveness failed failureThreshold times in a row between ``start`` and ``end``."""
        streak = 0
        for probe in self._of(replica, "live", start, end):
            streak = 0 if probe.ok else streak + 1
            if streak >= LIVENESS["failure_threshold"]:
                return True
        return False

    def ready_again(self, replica: str, since: float) -> float | None:
        """Seconds from ``since`` to the replica's first passing readiness probe after it."""
        passing = [p.at for p in self._of(replica, "ready", since, float("inf")) if p.ok]
        return round(passing[0] - since, 1) if passing else None

    def failures(self, kind: str, start: float, end: float) -> int:
        return sum(not p.ok for replica in self.ports for p in self._of(replica, kind, start, end))

    def _of(self, replica: str, kind: str, start: float, end: float) -> list[Probe]:
        return [
            p
            for p in self.results
            if p.replica == replica and p.kind == kind and start <= p.at <= end
        ]
