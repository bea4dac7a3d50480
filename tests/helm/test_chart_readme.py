"""helm/README.md is generated from values.yaml: every parameter is documented, and the file on
disk is what the generator makes now (`make helm-docs` rewrites it)."""

import importlib.util
import json

import yaml

from tests.helm import support


def generator():
    spec = importlib.util.spec_from_file_location(
        "generate_readme", support.CHART / "generate_readme.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_value_is_documented():
    module = generator()
    text = (support.CHART / "values.yaml").read_text()
    documented = [key for key, _ in module.documented_keys(text)]
    assert not module.undocumented(yaml.safe_load(text), documented)
    descriptions = dict(module.documented_keys(text))
    assert all(len(description) > 3 for description in descriptions.values())


def test_every_documented_value_is_in_the_schema():
    module = generator()
    schema = json.loads((support.CHART / "values.schema.json").read_text())

    def resolved(node: dict) -> dict:
        """A schema node with its `$ref` (into `$defs`) followed."""
        while "$ref" in node:
            node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
        return node

    for key, _ in module.documented_keys((support.CHART / "values.yaml").read_text()):
        node = schema
        for part in key.split("."):
            node = resolved(node)
            properties = node.get("properties", {})
            node = properties[part] if part in properties else node["additionalProperties"]
        assert node is not None, key


def test_the_schema_keeps_repeated_shapes_in_defs_and_stays_strict():
    schema = json.loads((support.CHART / "values.schema.json").read_text())
    text = json.dumps(schema)
    for shape in ("resources", "probe", "imageDigest", "containers", "cronJob"):
        assert text.count(f'"#/$defs/{shape}"') >= 2, shape
    assert '"requests"' not in json.dumps(schema["properties"])  # resources only in $defs

    def objects(node, path="#"):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                yield path, node
            for key, value in node.items():
                yield from objects(value, f"{path}/{key}")
        elif isinstance(node, list):
            for item in node:
                yield from objects(item, path)

    # Every object the chart defines refuses unknown keys, except the user's own containers
    # and list entries passed to Kubernetes as given.
    open_by_design = {"#/$defs/container", "#/$defs/probe/properties/httpGet"}
    for path, node in objects(schema):
        if path in open_by_design or "/items" in path:
            continue
        assert node.get("additionalProperties") is False, path


def test_readme_is_up_to_date():
    expected = generator().generate()
    actual = (support.CHART / "README.md").read_text()
    assert actual == expected, "helm/README.md is out of date: run `make helm-docs`"


def test_readme_lists_the_main_parameters():
    readme = (support.CHART / "README.md").read_text()
    for key in (
        "secrets.existingSecret",
        "web.autoscaling.enabled",
        "migrations.mode",
        "cronjobs.jobs",
        "database.existingSecret",
        "secrets.gateway.existingSecret",
        "extraObjects",
        "commonAnnotations",
        "web.sidecars",
        "web.httpRoute.enabled",
    ):
        assert f"| `{key}` |" in readme
