"""Secrets from anywhere (docs/secrets.md): DATABASE_URL whole or in parts from a Secret of its
own, WS_GATEWAY_SECRET from another, the app Secret for the rest; the same references in
every pod kind; the ExternalSecret example of the docs is the CI values' own; and Django,
given the environment the kubelet would build, reaches PostgreSQL with the parts."""

import json
import os
import re
import secrets
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import yaml

from tests.helm import support

VARIANTS = support.variants()
MINIMAL = VARIANTS["ci:minimal-values.yaml"]
EXTERNAL = VARIANTS["ci:external-secrets-values.yaml"]
CNPG = VARIANTS["ci:cloudnativepg-values.yaml"]
PARTS = {"PGHOST": "host", "PGPORT": "port", "PGDATABASE": "dbname"}
PARTS |= {"PGUSER": "username", "PGPASSWORD": "password"}


def secret_refs(container: dict) -> dict[str, tuple[str, str]]:
    return {
        entry["name"]: (
            entry["valueFrom"]["secretKeyRef"]["name"],
            entry["valueFrom"]["secretKeyRef"]["key"],
        )
        for entry in container["env"]
        if "secretKeyRef" in entry.get("valueFrom", {})
    }


def render_error(values: dict) -> str:
    sdk = support.helm()
    with pytest.raises(sdk.HelmError) as failure:
        support.render(values)
    return str(failure.value)


def test_each_credential_comes_from_its_own_secret_in_every_pod_kind():
    objects = support.render(EXTERNAL)
    assert not support.find(support.chart_objects(objects), "Secret")
    kinds = 0
    for obj in support.workloads(objects):
        container = support.pod_spec(obj)["containers"][0]
        refs = secret_refs(container)
        env = {e["name"]: e for e in container["env"]}
        for name, key in PARTS.items():
            assert refs[name] == ("wsgateway-prod-database", key), (obj["metadata"]["name"], name)
        # libpq fills in what the URL leaves out: no password in a URL, so none to escape.
        assert env["DATABASE_URL"] == {"name": "DATABASE_URL", "value": "postgres:///$(PGDATABASE)"}
        names = [e["name"] for e in container["env"]]
        assert names.index("PGDATABASE") < names.index("DATABASE_URL")  # $(…) expands
        assert refs["WS_GATEWAY_SECRET"] == ("wsgateway-prod-gateway", "WS_GATEWAY_SECRET")
        assert refs["SECRET_KEY"] == ("wsgateway-prod", "SECRET_KEY")
        kinds += 1
    assert kinds >= 6  # web, migrations, four CronJobs, the smoke test
    config = support.one(objects, "ConfigMap", "-config")["data"]
    assert config["PGSSLMODE"] == "verify-full"


def test_a_whole_url_from_the_database_secret_and_the_rest_from_a_chart_made_secret():
    objects = support.render(CNPG)
    web = support.pod_spec(support.one(objects, "Deployment", "-web"))["containers"][0]
    refs = secret_refs(web)
    assert refs["DATABASE_URL"] == ("wsgateway-db-app", "uri")
    assert refs["SECRET_KEY"] == ("wsgateway-secrets", "SECRET_KEY")
    assert not PARTS.keys() & refs.keys()
    for secret in support.find(objects, "Secret"):
        assert "DATABASE_URL" not in secret["stringData"]
    migrate = support.pod_spec(support.one(objects, "Job", "-migrate"))["containers"][0]
    assert secret_refs(migrate)["DATABASE_URL"] == ("wsgateway-db-app", "uri")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"database": {"existingSecret": "db"}},
            "set either secrets.create.databaseUrl or database.existingSecret, not both",
        ),
        (
            {"secrets": {"gateway": {"existingSecret": "gw"}}},
            "set either secrets.create.gatewaySecret or secrets.gateway.existingSecret",
        ),
        (
            {"secrets": {"create": {"databaseUrl": ""}}},
            "secrets.create.databaseUrl is required",
        ),
    ],
)
def test_each_credential_has_exactly_one_source(override, message):
    values = support.merge(VARIANTS["ci:chart-secret-values.yaml"], override)
    assert message in render_error(values)


def test_the_docs_example_is_the_ci_values():
    """docs/secrets.md shows the ExternalSecrets of helm/ci/external-secrets-values.yaml, and
    the ESO templates keep their braces through Helm's tpl."""
    text = (support.ROOT / "docs" / "secrets.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    documented = [yaml.safe_load(block) for block in blocks]
    ci = support.read_values(support.CHART / "ci" / "external-secrets-values.yaml")
    assert ci in documented, "docs/secrets.md no longer shows helm/ci/external-secrets-values.yaml"
    objects = support.render(EXTERNAL)
    database = next(
        o
        for o in support.find(objects, "ExternalSecret")
        if o["spec"]["target"]["name"] == "wsgateway-prod-database"
    )
    assert database["metadata"]["name"] == "wsgateway-database"
    template = database["spec"]["target"]["template"]["data"]
    assert template["password"] == "{{ .password }}"
    assert set(template) == set(PARTS.values())
    for external in support.find(objects, "ExternalSecret"):
        hook = external["metadata"]["annotations"]
        migrate = support.one(objects, "Job", "-migrate")["metadata"]["annotations"]
        assert hook["helm.sh/hook"] == migrate["helm.sh/hook"]
        assert int(hook["helm.sh/hook-weight"]) < int(migrate["helm.sh/hook-weight"])


def test_django_reaches_postgresql_with_the_parts(tmp_path):
    """The environment the kubelet builds for the web container from the parts (the Secrets
    as External Secrets would write them) starts Django's production settings, and its
    database connection uses the Secret's user and password."""
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))
    values = support.merge(EXTERNAL, {"database": {"sslMode": "disable"}})
    objects = support.render(values)
    password = "p@ss:w/rd#with?url&chars%"
    stored = [
        {
            "kind": "Secret",
            "metadata": {"name": "wsgateway-prod-database"},
            "stringData": {
                "host": server.hostname,
                "port": str(server.port or 5432),
                "dbname": "postgres",
                "username": server.username or "postgres",
                "password": password,
            },
        },
        {
            "kind": "Secret",
            "metadata": {"name": "wsgateway-prod-gateway"},
            "stringData": {"WS_GATEWAY_SECRET": secrets.token_urlsafe(32)},
        },
        {
            "kind": "Secret",
            "metadata": {"name": "wsgateway-prod"},
            "stringData": {"SECRET_KEY": secrets.token_urlsafe(50), "SMOKE_PASSWORD": "smoke"},
        },
    ]
    web = support.pod_spec(support.one(objects, "Deployment", "-web"))["containers"][0]
    env = support.resolve_env(web, objects + stored, pod_ip="10.1.2.3")
    assert env["DATABASE_URL"] == "postgres:///postgres"
    probe = (
        "import json, django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.db import connection\n"
        "connection.ensure_connection()\n"
        "info = connection.connection.info\n"
        "print(json.dumps({'url_password': settings.DATABASES['default']['PASSWORD'],\n"
        "  'user': info.user, 'password': info.password, 'dbname': info.dbname,\n"
        "  'port': info.port, 'hosts': settings.ALLOWED_HOSTS}))\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", probe],
        cwd=support.ROOT / "app",
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["url_password"] == ""
    assert (seen["user"], seen["password"]) == (server.username or "postgres", password)
    assert (seen["dbname"], seen["port"]) == ("postgres", server.port or 5432)
    assert "10.1.2.3" in seen["hosts"] and "app.example.com" in seen["hosts"]
