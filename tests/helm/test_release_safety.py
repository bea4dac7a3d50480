"""`manage.py check --deploy` for every production environment's values, run with the
environment the web container gets from the rendered chart (its ConfigMap and env entries,
resolved as the kubelet does, with stand-in Secret values): no error, and no warning but those
the environment's values ask for on purpose. The local environment (k8s/environments/local)
runs the development profile on purpose and is left out."""

import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.helm import support

# Stand-in values for each variable a Secret holds, shaped as production requires.
SECRET_VALUES = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgres://app@db.example.internal:5432/app",
    "WS_GATEWAY_SECRET": secrets.token_urlsafe(32),
    "SMOKE_PASSWORD": secrets.token_urlsafe(16),
    "PGHOST": "db.example.internal",
    "PGPORT": "5432",
    "PGDATABASE": "app",
    "PGUSER": "app",
    "PGPASSWORD": secrets.token_urlsafe(16),
}


# Warnings an environment may cause deliberately, by the setting that causes each.
DELIBERATE = {"security.W021": ("SECURE_HSTS_PRELOAD", "false")}


def expected_warnings(environment: dict[str, str]) -> set[str]:
    """The deliberate warnings: dev and staging keep their domains off the HSTS preload list."""
    return {check for check, (name, value) in DELIBERATE.items() if environment.get(name) == value}


def stand_in_secrets(container: dict) -> list[dict]:
    """The Secrets a container reads, each key holding a stand-in for its variable."""
    found: dict[str, dict[str, str]] = {}
    for entry in container["env"]:
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref and entry["name"] in SECRET_VALUES:
            found.setdefault(ref["name"], {})[ref["key"]] = SECRET_VALUES[entry["name"]]
    return [
        {"kind": "Secret", "metadata": {"name": name}, "stringData": data}
        for name, data in found.items()
    ]


@pytest.mark.parametrize("env", support.ENVIRONMENTS)
def test_check_deploy_is_clean_with_each_environments_values(env):
    objects = support.render(support.values_for(support.environment_values(env)))
    web = support.pod_spec(support.web_workloads(objects)[0])["containers"][0]
    environment = support.resolve_env(web, objects + stand_in_secrets(web), pod_ip="10.0.1.23")
    assert environment["DJANGO_ENV"] == "production"
    inherited = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=support.ROOT / "app",
        env={**inherited, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = set(re.findall(r"\((\w+\.[A-Z]\d+)\)", result.stdout + result.stderr))
    assert found == expected_warnings(environment), result.stdout + result.stderr
    if env == "prod":
        assert "System check identified no issues (0 silenced)." in result.stdout
