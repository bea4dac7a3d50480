"""What production refuses to start with: settings that are legal but unsafe.

``settings.py`` calls ``unsafe_settings`` last, in production only, and stops with one
message listing every problem, so an operator fixes them all in one deploy. Settings load in
every process (gunicorn's workers, migrate, the CronJobs), so the web tier cannot start with
them either, not just ``migrate`` (where the package's system check E001 runs).
"""

import re
from collections.abc import Mapping
from typing import Any

# The package's GATEWAY_SECRET_PATTERN (models.py; its check E001). Settings load before the
# app registry, so it cannot be imported here; tests/test_settings.py pins that they agree.
GATEWAY_SECRET_PATTERN = re.compile(r"[A-Za-z0-9._~+/=-]{32,}")
# Django's own bar for SECRET_KEY (check security.W009).
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
# Published in this repository (settings' default, the compose stacks), so worthless as
# secrets. Django's startproject keys start with "django-insecure-".
KNOWN_DEVELOPMENT_KEY_MARKERS = (
    "development-only-insecure-key",
    "local-stack-only-secret-key",
    "drill-only-secret-key",
    "django-insecure-",
)
# A year less a week, the shortest max-age the HSTS preload list has accepted.
MIN_HSTS_SECONDS = 31_536_000 - 7 * 86_400


def unsafe_settings(s: Mapping[str, Any]) -> list[str]:
    """Each unsafe value among the settings ``s`` (a module's globals), as one line."""
    problems = []
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT"):
        if not s[name]:
            problems.append(f"{name} is off: cookies or pages would travel over plain HTTP")
    if s["SECURE_HSTS_SECONDS"] < MIN_HSTS_SECONDS:
        problems.append(
            f"SECURE_HSTS_SECONDS is {s['SECURE_HSTS_SECONDS']}: HSTS needs at least "
            f"{MIN_HSTS_SECONDS} (a year)"
        )
    problems.extend(_secret_key_problems(s["SECRET_KEY"]))
    if "*" in s["ALLOWED_HOSTS"]:
        problems.append("ALLOWED_HOSTS contains '*': name the hosts")
    for position, secret in enumerate(s["WEBSOCKETS"]["gateway_secret"], start=1):
        if not GATEWAY_SECRET_PATTERN.fullmatch(secret):
            problems.append(
                f"WS_GATEWAY_SECRET entry {position} is not 32+ characters of "
                "A-Z a-z 0-9 . _ ~ + / = - (openssl rand -base64 48 | tr -d '\\n')"
            )
    if s["DEBUG"]:
        problems.append("DEBUG is on")
    return problems


def _secret_key_problems(key: str) -> list[str]:
    if any(marker in key for marker in KNOWN_DEVELOPMENT_KEY_MARKERS):
        return ["SECRET_KEY is a published development value: generate one for this environment"]
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return [
            f"SECRET_KEY is weak: use {SECRET_KEY_MIN_LENGTH}+ random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        ]
    return []
