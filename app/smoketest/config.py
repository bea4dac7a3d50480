"""What the smoke test talks to, from the environment (docs/smoke-test.md)."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class SmokeConfig:
    base_url: str
    ws_url: str
    origin: str
    username: str
    password: str
    channel: str = "smoke"
    log_source: str = "none"
    # Steps 4, 7, 10, 11 read and write the database: only where it is the deployment's own.
    database_steps: bool = False
    environment: str = "local compose stack"
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> "SmokeConfig":
        base_url = os.environ.get("SMOKE_BASE_URL", "http://localhost:8000").rstrip("/")
        password = os.environ.get("SMOKE_PASSWORD", "")
        if not password:
            raise ValueError("Set SMOKE_PASSWORD (and SMOKE_USERNAME) to the smoke user's sign-in")
        return cls(
            base_url=base_url,
            ws_url=os.environ.get("SMOKE_WS_URL", "ws://localhost:8001/local"),
            origin=os.environ.get("SMOKE_ORIGIN", base_url),
            username=os.environ.get("SMOKE_USERNAME", "smoke"),
            password=password,
            channel=os.environ.get("SMOKE_CHANNEL", "smoke"),
            log_source=os.environ.get("SMOKE_LOG_SOURCE", "none"),
            database_steps=os.environ.get("SMOKE_DATABASE_STEPS", "").lower()
            in {"1", "true", "yes"},
            environment=os.environ.get("SMOKE_ENVIRONMENT", base_url),
            timeout=float(os.environ.get("SMOKE_TIMEOUT_SECONDS", "10")),
        )
