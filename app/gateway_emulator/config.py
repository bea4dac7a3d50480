"""The emulator's settings, read from the environment once, with every mistake reported."""

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from yarl import URL

# AWS stage names: letters, digits, hyphens and underscores.
_STAGE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_API_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_TARGET_URL = URL("http://localhost:8000/ws/")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class ConfigError(ValueError):
    """One or more environment variables are invalid; the message names each of them."""


@dataclass(frozen=True)
class Upstream:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class EmulatorConfig:
    host: str = "0.0.0.0"  # noqa: S104 - it serves other containers in docker compose
    port: int = 8001
    target_url: URL = DEFAULT_TARGET_URL
    # Where integration calls go (the Host header stays the target's): host:port entries,
    # each name resolving to one or more replicas.
    upstreams: tuple[Upstream, ...] = ()
    # A file holding that list instead, read again at every refresh: rewriting it moves the
    # traffic, as flipping a Service's selector does (the blue/green drill).
    upstream_file: str | None = None
    upstream_refresh: float = 5.0
    api_id: str = "local"
    stage: str = "local"
    gateway_secret: str | None = None
    routes: Mapping[str, URL] = field(default_factory=dict)
    idle_timeout: float = 600.0
    max_duration: float = 7200.0
    drop_disconnects: bool = False
    # AWS's integration timeout for HTTP integrations: 29 s.
    integration_timeout: float = 29.0
    # Management API calls must carry a SigV4 signature by these credentials, as AWS's IAM
    # authorization requires (gateway_emulator.signature_check).
    verify_sigv4: bool = True
    access_key_id: str | None = None
    secret_access_key: str | None = None
    # AWS's account-level throttle, a token bucket (10,000 requests/s, burst 5,000); off unless
    # a rate is set (gateway_emulator.throttle).
    throttle_rate: float | None = None
    throttle_burst: float = 5000.0
    log_format: str = "json"
    log_level: str = "INFO"


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 65535:
        raise ValueError("must be a port number between 1 and 65535")
    return int(value)


def _http_url(value: str) -> URL:
    url = URL(value)
    if url.scheme not in {"http", "https"} or not url.host:
        raise ValueError("must be an http:// or https:// URL")
    return url


def _target_url(value: str) -> URL:
    url = _http_url(value)
    # The package's integrations are target_base_endpoint + "connect" | "default" | ...
    if not url.path.endswith("/") or url.query_string:
        raise ValueError("must end with '/' and have no query, e.g. http://localhost:8000/ws/")
    return url


def parse_upstreams(value: str) -> tuple[Upstream, ...]:
    """``host:port[,host:port...]``; empty means none."""
    upstreams = []
    for entry in filter(None, (part.strip() for part in value.split(","))):
        url = URL(f"http://{entry}")
        if not url.host or url.explicit_port is None or url.raw_path not in {"", "/"}:
            raise ValueError("must be host:port[,host:port...], e.g. web:8000")
        upstreams.append(Upstream(url.host, url.explicit_port))
    return tuple(upstreams)


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return parse


def _stage(value: str) -> str:
    _matching(_STAGE, "1-128 letters, digits, '-' or '_'")(value)
    if value == "health":
        raise ValueError("'health' is the emulator's health endpoint")
    return value


def _secret(value: str) -> str | None:
    if not value:
        return None
    if not value.isprintable() or not value.isascii():
        raise ValueError("must be printable ASCII (it is sent as an HTTP header)")
    return value


def _routes(value: str) -> Mapping[str, URL]:
    try:
        routes = json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"is not valid JSON ({error.msg})") from None
    if not isinstance(routes, dict):
        raise ValueError('must be a JSON object {"routeKey": "http://host/path"}')
    parsed = {}
    for key, url in routes.items():
        if not key or key.startswith("$"):
            raise ValueError(f"route key {key!r} must be non-empty and not start with '$'")
        if not isinstance(url, str):
            raise ValueError(f"the URL of route {key!r} must be a string")
        parsed[key] = _http_url(url)
    return parsed


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ValueError("must be a number of seconds above 0")
    return seconds


def _positive(value: str) -> float:
    try:
        return _seconds(value)
    except ValueError:
        raise ValueError("must be a number above 0") from None


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in _TRUE | _FALSE:
        raise ValueError("must be true or false")
    return lowered in _TRUE


def _credential(value: str) -> str:
    if not value or not value.isascii() or not value.isprintable() or " " in value:
        raise ValueError("must be a non-empty printable ASCII word")
    return value


def _log_format(value: str) -> str:
    if value not in {"json", "console"}:
        raise ValueError("must be 'json' or 'console'")
    return value


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


# Environment variable -> (field, parser). Unset variables keep the field's default.
_VARIABLES: dict[str, tuple[str, Callable[[str], object]]] = {
    "EMULATOR_HOST": ("host", str),
    "EMULATOR_PORT": ("port", _port),
    "EMULATOR_TARGET_URL": ("target_url", _target_url),
    "EMULATOR_UPSTREAM": ("upstreams", parse_upstreams),
    "EMULATOR_UPSTREAM_FILE": ("upstream_file", str),
    "EMULATOR_UPSTREAM_REFRESH_SECONDS": ("upstream_refresh", _seconds),
    "EMULATOR_API_ID": ("api_id", _matching(_API_ID, "1-64 letters, digits, '-' or '_'")),
    "EMULATOR_STAGE": ("stage", _stage),
    "EMULATOR_GATEWAY_SECRET": ("gateway_secret", _secret),
    "EMULATOR_ROUTES": ("routes", _routes),
    "EMULATOR_IDLE_TIMEOUT_SECONDS": ("idle_timeout", _seconds),
    "EMULATOR_MAX_DURATION_SECONDS": ("max_duration", _seconds),
    "EMULATOR_DROP_DISCONNECTS": ("drop_disconnects", _bool),
    "EMULATOR_INTEGRATION_TIMEOUT_SECONDS": ("integration_timeout", _seconds),
    "EMULATOR_VERIFY_SIGV4": ("verify_sigv4", _bool),
    "EMULATOR_AWS_ACCESS_KEY_ID": ("access_key_id", _credential),
    "EMULATOR_AWS_SECRET_ACCESS_KEY": ("secret_access_key", _credential),
    "EMULATOR_THROTTLE_RATE": ("throttle_rate", _positive),
    "EMULATOR_THROTTLE_BURST": ("throttle_burst", _positive),
    "LOG_FORMAT": ("log_format", _log_format),
    "LOG_LEVEL": ("log_level", _log_level),
}


def load_config(environ: Mapping[str, str]) -> EmulatorConfig:
    """Read every variable; raise ConfigError listing all invalid ones at once."""
    values: dict[str, object] = {}
    problems: list[str] = []
    for name, (attribute, parse) in _VARIABLES.items():
        if name not in environ:
            continue
        try:
            values[attribute] = parse(environ[name])
        except ValueError as error:
            # Never echo the secret back, not even in an error message.
            shown = "" if "SECRET" in name else f"={environ[name]!r}"
            problems.append(f"{name}{shown}: {error}")
    config = EmulatorConfig(**values)  # type: ignore[arg-type]
    if config.verify_sigv4 and not (config.access_key_id and config.secret_access_key):
        problems.append(
            "EMULATOR_VERIFY_SIGV4 is on: set EMULATOR_AWS_ACCESS_KEY_ID and "
            "EMULATOR_AWS_SECRET_ACCESS_KEY to the credentials Django signs with "
            "(or EMULATOR_VERIFY_SIGV4=false to accept unsigned Management API calls)"
        )
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return config
