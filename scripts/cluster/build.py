"""Build the local cluster's programs from pinned Go modules (docs/local-cluster.md).

    python3 scripts/cluster/build.py            # build what is missing, print a line per program
    python3 scripts/cluster/build.py --list     # the programs and their pinned versions

Each component is a small wrapper module under scripts/cluster/modules/ whose go.mod and go.sum
pin every version (k8s.io/kubernetes and etcd replace their sibling modules with local folders,
which `go install pkg@version` refuses; a wrapper that requires them works). The binaries go to
CLUSTER_CACHE/bin; a binary whose stamp (a hash of its module's files and build flags)
matches is skipped, so the script resumes where it stopped and rebuilds only what changed. Go's
own module and build caches are the machine's (GOMODCACHE, GOCACHE): reused when present.
Builds run under `nice -n 19` (the machine is shared). Standard library only.
"""

import argparse
import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# Run as a file: the repository root, where devtools/ is.
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))

from devtools.console import say
from devtools.environment import env_str

MODULES = Path(__file__).resolve().parent / "modules"
# /var/tmp: kept across reboots, as the Docker engine's and PostgreSQL's folders of the project.
CACHE = Path(env_str("CLUSTER_CACHE", "/var/tmp/wsgateway-cluster-cache"))  # noqa: S108
KUBERNETES_VERSION = "v1.34.4"


def kubernetes_version_flags() -> list[str]:
    """-X flags a release build sets: without them every component says v0.0.0-master, and the
    apiserver's version would fail the chart's kubeVersion and the kubelet's version skew check."""
    major, minor = KUBERNETES_VERSION[1:].split(".")[:2]
    values = {
        "gitVersion": KUBERNETES_VERSION,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
    }
    return [
        f"-X {package}.{name}={value}"
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for name, value in values.items()
    ]


@dataclass(frozen=True)
class Component:
    """One wrapper module and the programs built from it (binary name -> package)."""

    module: str
    version: str
    programs: dict[str, str]
    ldflags: list[str] = field(default_factory=list)
    tags: str = ""

    def stamp(self) -> str:
        digest = hashlib.sha256()
        for path in sorted((MODULES / self.module).iterdir()):
            digest.update(path.name.encode() + path.read_bytes())
        digest.update(repr((self.ldflags, self.tags)).encode())
        return digest.hexdigest()


# In the order they are needed: helm first (the cheapest proof the toolchain works), then the
# control plane, the node, the network.
COMPONENTS = [
    Component(
        "helm",
        "v3.22.0",
        {"helm": "helm.sh/helm/v3/cmd/helm"},
        # As helm's Makefile: without them `helm version` is empty and `helm template` and
        # `helm lint` assume Kubernetes 1.20 (the chart requires 1.28 or later). 1.37: the
        # k8s.io/client-go v0.37 its go.mod selects.
        ldflags=[
            "-X helm.sh/helm/v3/internal/version.version=v3.22.0",
            "-X helm.sh/helm/v3/internal/version.gitTreeState=clean",
            *(
                f"-X helm.sh/helm/v3/pkg/{package}.{name}={value}"
                for package in ("lint/rules", "chartutil")
                for name, value in (("k8sVersionMajor", "1"), ("k8sVersionMinor", "37"))
            ),
        ],
    ),
    Component("etcd", "v3.6.16", {"etcd": "go.etcd.io/etcd/server/v3"}),
    Component(
        "kubernetes",
        KUBERNETES_VERSION,
        {
            name: f"k8s.io/kubernetes/cmd/{name}"
            for name in (
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
                "kubelet",
                "kube-proxy",
                "kubectl",
            )
        },
        ldflags=kubernetes_version_flags(),
    ),
    Component(
        "containerd",
        "v2.2.3",
        {
            name: f"github.com/containerd/containerd/v2/cmd/{name}"
            for name in ("containerd", "containerd-shim-runc-v2", "ctr")
        },
        # Static binaries without the storage drivers that need C libraries (overlayfs is Go).
        tags="no_btrfs no_devmapper no_zfs",
    ),
    Component(
        "cni-plugins",
        "v1.9.1",
        {
            name: f"github.com/containernetworking/plugins/plugins/{kind}/{name}"
            for kind, name in (
                ("main", "bridge"),
                ("main", "loopback"),
                ("ipam", "host-local"),
                ("meta", "portmap"),
                # Accepts pod traffic in FORWARD, whose policy the Docker engine sets to DROP.
                ("meta", "firewall"),
            )
        },
    ),
    # crictl: what `cluster down` stops the pods with (and a debugging tool).
    Component("cri-tools", "v1.34.0", {"crictl": "sigs.k8s.io/cri-tools/cmd/crictl"}),
    # The two programs that run as pods; scripts/cluster/images.py wraps each in an image.
    Component("pause", "local", {"pause": "."}),
    Component("coredns", "v1.12.4", {"coredns": "github.com/coredns/coredns"}),
    # NetworkPolicy enforcement: only its firewall runs (iptables and ipsets). The module proxy
    # serves v2.1.0 only. sigs.k8s.io/kube-network-policies cannot work on this kernel: it needs
    # nftables' queue expression (CONFIG_NFT_QUEUE is not set), and every rule sync failed with
    # "netlink receive: no such file or directory".
    Component(
        "kube-router",
        "v2.1.0",
        {"kube-router": "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"},
    ),
]


def built(component: Component, binary: str) -> bool:
    stamp = CACHE / "bin" / ".stamps" / binary
    return (
        (CACHE / "bin" / binary).exists()
        and stamp.exists()
        and (stamp.read_text() == component.stamp())
    )


def build(component: Component, binary: str, package: str) -> None:
    """go build one program of the component's wrapper module into the cache; its output, when
    it fails, is in CLUSTER_CACHE/logs/<binary>.log."""
    log = CACHE / "logs" / f"{binary}.log"
    command = [
        "nice",
        "-n",
        "19",
        "go",
        "build",
        "-trimpath",
        "-ldflags",
        " ".join(["-s", "-w", *component.ldflags]),
        "-o",
        str(CACHE / "bin" / binary),
    ]
    if component.tags:
        command += ["-tags", component.tags]
    # -mod=readonly: a build never changes a pin (go.mod and go.sum say everything);
    # -buildvcs=false: the modules sit in the project's git tree, whose commit is not theirs.
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly -buildvcs=false"}
    with log.open("w") as out:
        result = subprocess.run(  # noqa: S603 - fixed program, arguments from this file
            [*command, package],
            cwd=MODULES / component.module,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        tail = log.read_text().splitlines()[-15:]
        raise SystemExit(f"==> FAILED building {binary} (log: {log}):\n" + "\n".join(tail))
    (CACHE / "bin" / ".stamps" / binary).write_text(component.stamp())


def build_all() -> None:
    (CACHE / "bin" / ".stamps").mkdir(parents=True, exist_ok=True)
    (CACHE / "logs").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for component in COMPONENTS:
        for binary, package in component.programs.items():
            label = f"{binary} ({component.module} {component.version})"
            if built(component, binary):
                say(f"[build] {label}: cached")
                continue
            say(f"[build] {label}: building")
            begun = time.monotonic()
            build(component, binary, package)
            say(f"[build] {label}: built in {time.monotonic() - begun:.0f} s")
    say(f"[build] all programs in {CACHE / 'bin'} ({time.monotonic() - started:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the programs and versions")
    if parser.parse_args().list:
        for component in COMPONENTS:
            print(f"{component.module} {component.version}: {' '.join(component.programs)}")
        return
    build_all()


if __name__ == "__main__":
    sys.exit(main())
