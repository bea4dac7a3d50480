"""What the smoke test talks to, from the environment (docs/smoke-test.md, "Variables"),
read with django-environ as Django's settings are."""

from dataclasses import dataclass

import environ

env = environ.Env()


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
        base_url = env.str("SMOKE_BASE_URL", default="http://localhost:8000").rstrip("/")
        password = env.str("SMOKE_PASSWORD", default="")
        if not password:
            raise ValueError("Set SMOKE_PASSWORD (and SMOKE_USERNAME) to the smoke user's sign-in")
        return cls(
            base_url=base_url,
            ws_url=env.str("SMOKE_WS_URL", default="ws://localhost:8001/local"),
            origin=env.str("SMOKE_ORIGIN", default=base_url),
            username=env.str("SMOKE_USERNAME", default="smoke"),
            password=password,
            channel=env.str("SMOKE_CHANNEL", default="smoke"),
            log_source=env.str("SMOKE_LOG_SOURCE", default="none"),
            database_steps=env.bool("SMOKE_DATABASE_STEPS", default=False),
            environment=env.str("SMOKE_ENVIRONMENT", default=base_url),
            timeout=env.float("SMOKE_TIMEOUT_SECONDS", default=10.0),
        )
