"""Images of the local cluster, loaded into its containerd (no registry can be reached).

The cluster's own pods (the sandbox "pause", CoreDNS, kube-network-policies) are one static Go
binary each: their images are written here as OCI archives of a single layer, without Docker.
The app and PostgreSQL images come from the project's Docker engine (`docker save`).
"""

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

# Names with a registry host part, so that nobody mistakes them for Docker Hub images.
REGISTRY = "wsgateway.local"


def image_name(program: str, version: str) -> str:
    return f"{REGISTRY}/{program}:{version}"


def blob(layout: tarfile.TarFile, data: bytes, media_type: str) -> dict[str, object]:
    """Adds data under blobs/sha256/ and returns its OCI descriptor."""
    digest = hashlib.sha256(data).hexdigest()
    add_file(layout, f"blobs/sha256/{digest}", data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def add_file(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    archive.addfile(info, io.BytesIO(data))


def single_binary_layer(binary: Path) -> bytes:
    """An uncompressed layer holding the binary at /<name> (reproducible: no times, uid 0)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        add_file(layer, binary.name, binary.read_bytes(), mode=0o755)
    return buffer.getvalue()


def write_oci_archive(binary: Path, name: str, archive: Path) -> None:
    """An OCI image layout (tar) whose one layer is the binary and whose entrypoint runs it."""
    layer = single_binary_layer(binary)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": [f"/{binary.name}"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"]},
    }
    with tarfile.open(archive, mode="w") as layout:
        layer_descriptor = blob(layout, layer, "application/vnd.oci.image.layer.v1.tar")
        config_descriptor = blob(
            layout, json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json"
        )
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config_descriptor,
            "layers": [layer_descriptor],
        }
        manifest_descriptor = blob(
            layout, json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json"
        )
        manifest_descriptor["annotations"] = {
            "io.containerd.image.name": name,
            "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1],
        }
        index = {"schemaVersion": 2, "manifests": [manifest_descriptor]}
        add_file(layout, "index.json", json.dumps(index).encode())
        add_file(layout, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')


def ctr_import(ctr: list[str], archive: Path) -> None:
    """Imports (and unpacks) an image archive into the CRI's namespace of containerd."""
    with archive.open("rb") as data:
        subprocess.run(  # noqa: S603 - our own ctr, arguments from this module
            [*ctr, "--namespace", "k8s.io", "images", "import", "-"],
            stdin=data,
            check=True,
            capture_output=True,
        )


def load_binary_image(ctr: list[str], binary: Path, name: str, scratch: Path) -> None:
    archive = scratch / f"{binary.name}.oci.tar"
    write_oci_archive(binary, name, archive)
    ctr_import(ctr, archive)
    archive.unlink()


def load_docker_image(ctr: list[str], docker_image: str, scratch: Path) -> None:
    """`docker save` from the project's engine, then import: the name stays the Docker one
    (docker.io/library/… for a short name), which is what the chart's image values resolve to."""
    archive = scratch / "docker-image.tar"
    with archive.open("wb") as out:
        subprocess.run(["docker", "save", docker_image], stdout=out, check=True)  # noqa: S603, S607
    ctr_import(ctr, archive)
    archive.unlink()
