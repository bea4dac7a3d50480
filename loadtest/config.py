"""What the load test talks to and how hard, from LOADTEST_* variables (docs/load-testing.md,
"Variables"). Read once by the runner, which fails with the variable's name, and again by
each locust process, which then knows the values are good."""

import csv
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from devtools.environment import BadVariable, env_bool, env_float, env_int, env_str

# The template's sign-in form and token endpoint (app/accounts/urls.py, app/realtime/urls.py).
LOGIN_PATH = "/accounts/login/"
TOKEN_PATH = "/api/ws-token/"  # noqa: S105 - a URL path, not a password


@dataclass(frozen=True)
class Credentials:
    username: str
    # Never in a repr: a printed config or sign-in shows no password.
    password: str = field(repr=False)


@dataclass(frozen=True)
class LoadTestConfig:
    site_url: str
    ws_url: str
    origin: str
    credentials: tuple[Credentials, ...] = field(repr=False)
    channel: str = "lobby"
    ping_interval: float = 1.0
    timeout: float = 10.0
    # False, or a CA bundle's path (a private CA), or True: the system's trust store.
    verify_tls: bool | str = True
    users: int = 10
    spawn_rate: float = 5.0
    duration: str = "1m"

    @classmethod
    def from_env(cls) -> "LoadTestConfig":
        site_url = _url("LOADTEST_SITE_URL", {"http", "https"})
        return cls(
            site_url=site_url,
            ws_url=_url("LOADTEST_WS_URL", {"ws", "wss"}),
            origin=env_str("LOADTEST_ORIGIN", site_url).rstrip("/"),
            credentials=_credentials(),
            channel=env_str("LOADTEST_CHANNEL", "lobby"),
            ping_interval=_positive(
                env_float("LOADTEST_PING_INTERVAL", 1.0), "LOADTEST_PING_INTERVAL"
            ),
            timeout=_positive(env_float("LOADTEST_TIMEOUT", 10.0), "LOADTEST_TIMEOUT"),
            verify_tls=_verify_tls(),
            users=int(_positive(_users(), "LOADTEST_USERS")),
            spawn_rate=_positive(env_float("LOADTEST_SPAWN_RATE", 5.0), "LOADTEST_SPAWN_RATE"),
            duration=env_str("LOADTEST_DURATION", "1m"),
        )


def _url(name: str, schemes: set[str]) -> str:
    value = env_str(name).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        allowed = " or ".join(f"{scheme}://" for scheme in sorted(schemes))
        raise BadVariable(f"{name}={value!r} must be a URL starting with {allowed}")
    return value


def _positive(value: float, name: str) -> float:
    if value <= 0:
        raise BadVariable(f"{name}={value!r} must be more than 0")
    return value


def _users() -> int:
    try:
        return env_int("LOADTEST_USERS", 10)
    except BadVariable as error:
        raise BadVariable(
            f"{error} (the number of simulated users; a CSV of sign-ins is LOADTEST_CREDENTIALS)"
        ) from None


def _verify_tls() -> bool | str:
    bundle = env_str("LOADTEST_CA_BUNDLE", "")
    if bundle:
        if not Path(bundle).is_file():
            raise BadVariable(f"LOADTEST_CA_BUNDLE={bundle!r} is not a file")
        return bundle
    return env_bool("LOADTEST_VERIFY_TLS", True)


def _credentials() -> tuple[Credentials, ...]:
    """Sign-ins from LOADTEST_CREDENTIALS (a CSV: username,password with that header row), or
    the one of LOADTEST_USERNAME and LOADTEST_PASSWORD."""
    path = env_str("LOADTEST_CREDENTIALS", "")
    if path:
        return read_credentials(Path(path))
    password = env_str("LOADTEST_PASSWORD", "")
    if not password:
        raise BadVariable(
            "Set LOADTEST_USERNAME and LOADTEST_PASSWORD (one user for every simulated one), "
            "or LOADTEST_CREDENTIALS to a CSV of username,password"
        )
    return (Credentials(env_str("LOADTEST_USERNAME"), password),)


def read_credentials(path: Path) -> tuple[Credentials, ...]:
    try:
        with path.open(newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    except OSError as error:
        raise BadVariable(f"LOADTEST_CREDENTIALS={str(path)!r}: {error.strerror}") from None
    found = tuple(
        Credentials(row["username"].strip(), row["password"])
        for row in rows
        if (row.get("username") or "").strip() and row.get("password")
    )
    if not found:
        raise BadVariable(
            f"LOADTEST_CREDENTIALS={str(path)!r} has no user: it needs a header row "
            "'username,password' and one row per user"
        )
    return found
