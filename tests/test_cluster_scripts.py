"""The local cluster's scripts (scripts/cluster, docs/local-cluster.md), offline: the pins of
the wrapper modules, the images written without Docker, and the docs recipes make cluster-test
runs. The cluster itself is exercised by `make cluster-up && make cluster-test`."""

import hashlib
import io
import json
import re
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts/cluster"))

import build  # noqa: E402 - the scripts are not a package: found through sys.path
import cluster_test  # noqa: E402
import images  # noqa: E402


@pytest.mark.parametrize("component", build.COMPONENTS, ids=lambda c: c.module)
def test_each_program_is_a_tool_of_its_pinned_wrapper_module(component):
    go_mod = (build.MODULES / component.module / "go.mod").read_text()
    for package in component.programs.values():
        if package != ".":
            assert re.search(rf"^\s*(tool\s+)?{re.escape(package)}$", go_mod, re.M), package
    if component.version != "local":
        assert f" {component.version}" in go_mod, (component.module, component.version)


def test_kubernetes_staging_modules_are_pinned_to_the_matching_version():
    go_mod = (build.MODULES / "kubernetes/go.mod").read_text()
    staging = re.findall(r"^\s*(k8s\.io/[\w-]+) => \1 (v\S+)$", go_mod, re.M)
    assert len(staging) > 20
    minor_patch = build.KUBERNETES_VERSION.removeprefix("v1.")
    assert {version for _, version in staging} == {f"v0.{minor_patch}"}


def test_a_binary_image_is_a_valid_oci_layout(tmp_path):
    binary = tmp_path / "pause"
    binary.write_bytes(b"\x7fELF not really")
    archive = tmp_path / "pause.tar"
    images.write_oci_archive(binary, "wsgateway.local/pause:test", archive)
    with tarfile.open(archive) as layout:
        blobs = {
            member.name.removeprefix("blobs/sha256/"): layout.extractfile(member).read()
            for member in layout.getmembers()
            if member.name.startswith("blobs/")
        }
        index = json.loads(layout.extractfile("index.json").read())
    for digest, data in blobs.items():
        assert hashlib.sha256(data).hexdigest() == digest
    (entry,) = index["manifests"]
    assert entry["annotations"]["io.containerd.image.name"] == "wsgateway.local/pause:test"
    manifest = json.loads(blobs[entry["digest"].removeprefix("sha256:")])
    config = json.loads(blobs[manifest["config"]["digest"].removeprefix("sha256:")])
    (layer,) = manifest["layers"]
    assert config["rootfs"]["diff_ids"] == [layer["digest"]]  # uncompressed: the same digest
    assert config["config"]["Entrypoint"] == ["/pause"]
    with tarfile.open(fileobj=io.BytesIO(blobs[layer["digest"].removeprefix("sha256:")])) as files:
        (member,) = files.getmembers()
        assert (member.name, member.mode) == ("pause", 0o755)


def test_the_recipes_cluster_test_runs_are_in_the_operations_guide():
    doc = (ROOT / "docs/operations.md").read_text()
    for event in cluster_test.RECIPES:
        command = cluster_test.recipe(doc, event)
        assert "wslogs" in command and "\\|" not in command, (event, command)
