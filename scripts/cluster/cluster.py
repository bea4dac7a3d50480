"""Start and stop the project's single-node Kubernetes (docs/local-cluster.md).

    python3 scripts/cluster/cluster.py up       # start everything, a timed line per step
    python3 scripts/cluster/cluster.py down     # stop everything, remove the state folder
    python3 scripts/cluster/cluster.py env      # the shell exports for kubectl and helm

The programs come from scripts/cluster/build.py (CLUSTER_CACHE/bin). Each runs as a process of
its own (logs in CLUSTER_DIR/logs, pids in CLUSTER_DIR/pids) except CoreDNS, which runs as a
pod as on a real cluster. All state is under CLUSTER_DIR; `down` also removes what the node
leaves outside it (pod processes and cgroups, the pods' bridge, iptables chains, ipsets), and
`up` runs `down` first when a previous cluster is still there.
Standard library only.
"""

import argparse
import json
import os
import shlex
import shutil
import signal
import ssl
import string
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))  # devtools/

import images  # sibling modules of a script, not a package: found through sys.path
import pki
from build import CACHE, COMPONENTS

from devtools.console import say
from devtools.environment import env_str

HERE = Path(__file__).resolve().parent
STATE = Path(env_str("CLUSTER_DIR", "/var/tmp/wsgateway-cluster"))  # noqa: S108
BIN = CACHE / "bin"
NODE_NAME = "wsgateway-node"
SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"  # the `kubernetes` Service: the first address of SERVICE_CIDR
DNS_IP = "10.96.0.10"
POD_CIDR = "10.244.0.0/16"
# The one node's share: the controller-manager allocates the first /24, the CNI config uses it.
NODE_POD_CIDR = "10.244.0.0/24"
BRIDGE = "wsgw-cni0"
# 443 as on EKS: kube-proxy sends the `kubernetes` Service to the node's address and this port,
# and the chart's NetworkPolicy lets pods (the smoke test) reach the Kubernetes API on 443 only.
API_PORT = 443
ETCD_CLIENT = "http://127.0.0.1:2379"
# The kubelet's cgroups are <hierarchy>/kubepods/…; the Docker engine's (…/docker) are not ours.
CGROUP_ROOT = Path("/sys/fs/cgroup")
KUBEPODS = "kubepods"
WAIT_SECONDS = 180


class Failure(Exception):
    """A step did not succeed in time; the message names the log to read."""


def version_of(module: str) -> str:
    return next(c.version for c in COMPONENTS if c.module == module)


PAUSE_IMAGE = images.image_name("pause", "wsgateway")
COREDNS_IMAGE = images.image_name("coredns", version_of("coredns"))


def step(name: str, action: Callable[[], str | None]) -> None:
    """Runs one step and prints its line with its duration (and what it returns)."""
    say(f"[cluster] {name} ...")
    started = time.monotonic()
    try:
        detail = action()
    except (Failure, subprocess.CalledProcessError) as error:
        say(f"[cluster] {name}: FAILED after {time.monotonic() - started:.1f} s: {error}")
        raise
    suffix = f" ({detail})" if detail else ""
    say(f"[cluster] {name}: ok in {time.monotonic() - started:.1f} s{suffix}")


def wait_until(what: str, check: Callable[[], bool], log: str, seconds: int = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise Failure(f"{what} not ready after {seconds} s; see {STATE / 'logs' / log}")


def node_ip() -> str:
    """The address of the interface of the default route: the apiserver advertises it, and the
    kubelet and kube-proxy use it, so pods reach the apiserver through the `kubernetes` Service."""
    routes = json.loads(subprocess.check_output(["ip", "-j", "route", "get", "1.1.1.1"]))  # noqa: S607
    return routes[0]["prefsrc"]


def render(template: str, **values: str) -> str:
    return string.Template((HERE / template).read_text()).substitute(values)


def write_config(ip: str) -> None:
    config = STATE / "config"
    for folder in ("config", "logs", "pids", "cni/net.d", "pod-logs", "kubelet", "kubeconfig"):
        (STATE / folder).mkdir(parents=True, exist_ok=True)
    common = {"state": str(STATE), "bin": str(BIN), "dns_ip": DNS_IP}
    (config / "containerd.toml").write_text(
        render(
            "config/containerd.toml",
            **common,
            pause_image=PAUSE_IMAGE,
            runc=shutil.which("runc") or "runc",
        )
    )
    (config / "kubelet.yaml").write_text(render("config/kubelet.yaml", **common))
    (config / "admission.yaml").write_text(render("config/admission.yaml"))
    (STATE / "cni/net.d/10-wsgateway.conflist").write_text(
        render("config/cni.conflist", **common, bridge=BRIDGE, pod_cidr=NODE_POD_CIDR)
    )
    server = f"https://{ip}:{API_PORT}"
    users = ("admin", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")
    for user in (*users, "kube-router"):
        pki.write_kubeconfig(STATE / "kubeconfig" / user, STATE / "pki", user, server)


def start(name: str, command: list[str], extra_env: dict[str, str] | None = None) -> None:
    """Starts a program in its own session (it outlives this script), logging to logs/<name>."""
    log = (STATE / "logs" / f"{name}.log").open("ab")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **(extra_env or {})}
    process = subprocess.Popen(  # noqa: S603 - our own programs
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    (STATE / "pids" / f"{name}.pid").write_text(str(process.pid))


def running(name: str) -> bool:
    pid_file = STATE / "pids" / f"{name}.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text()), 0)
    except ProcessLookupError:
        return False
    return True


def answers(url: str) -> bool:
    """True when an HTTP(S) health endpoint answers 200 (the components' own self-signed
    certificates are not checked: this only asks whether they are up)."""
    context = ssl._create_unverified_context()  # noqa: S323 - a local liveness question only
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def kubectl(*args: str, capture: bool = True, stdin: str | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - our own kubectl
        [str(BIN / "kubectl"), "--kubeconfig", str(STATE / "kubeconfig/admin"), *args],
        check=True,
        capture_output=capture,
        text=True,
        input=stdin,
    )
    return result.stdout if capture else ""


def start_and_wait(name: str, command: list[str], ready: Callable[[], bool]) -> None:
    start(name, command)
    wait_until(name, lambda: running(name) and ready(), f"{name}.log")
    if not running(name):
        raise Failure(f"{name} exited; see {STATE / 'logs' / f'{name}.log'}")


def start_etcd() -> str:
    data = STATE / "etcd"
    start_and_wait(
        "etcd",
        [
            str(BIN / "etcd"), "--name", NODE_NAME, "--data-dir", str(data),
            "--listen-client-urls", ETCD_CLIENT, "--advertise-client-urls", ETCD_CLIENT,
            "--listen-peer-urls", "http://127.0.0.1:2380",
            "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
            "--initial-cluster", f"{NODE_NAME}=http://127.0.0.1:2380",
            "--listen-metrics-urls", "http://127.0.0.1:2381",
            # A throwaway cluster on a shared disk: no fsync per write.
            "--unsafe-no-fsync",
        ],
        lambda: answers("http://127.0.0.1:2381/health"),
    )  # fmt: skip
    return f"etcd {version_of('etcd')} on {ETCD_CLIENT}"


def start_apiserver(ip: str) -> str:
    keys = STATE / "pki"
    start_and_wait(
        "kube-apiserver",
        [
            str(BIN / "kube-apiserver"),
            f"--etcd-servers={ETCD_CLIENT}",
            f"--advertise-address={ip}",
            f"--secure-port={API_PORT}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            f"--client-ca-file={keys / 'ca.crt'}",
            f"--tls-cert-file={keys / 'apiserver.crt'}",
            f"--tls-private-key-file={keys / 'apiserver.key'}",
            f"--kubelet-client-certificate={keys / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={keys / 'apiserver-kubelet-client.key'}",
            # The node's name resolves nowhere (no DNS entry for it): logs and exec by address.
            "--kubelet-preferred-address-types=InternalIP",
            f"--service-account-key-file={keys / 'service-accounts.pub'}",
            f"--service-account-signing-key-file={keys / 'service-accounts.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--authorization-mode=Node,RBAC",
            # PodSecurity is on by default; NodeRestriction is what kubeadm adds to the defaults.
            "--enable-admission-plugins=NodeRestriction",
            f"--admission-control-config-file={STATE / 'config/admission.yaml'}",
            "--allow-privileged=true",
            "--profiling=false",
        ],
        lambda: answers(f"https://127.0.0.1:{API_PORT}/readyz"),
    )
    return f"https://{ip}:{API_PORT}, Pod Security Admission baseline by default"


def start_controller_manager() -> str:
    keys = STATE / "pki"
    kubeconfig = str(STATE / "kubeconfig/kube-controller-manager")
    start_and_wait(
        "kube-controller-manager",
        [
            str(BIN / "kube-controller-manager"),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            f"--service-account-private-key-file={keys / 'service-accounts.key'}",
            f"--root-ca-file={keys / 'ca.crt'}",
            f"--cluster-signing-cert-file={keys / 'ca.crt'}",
            f"--cluster-signing-key-file={keys / 'ca.key'}",
            "--use-service-account-credentials",
            "--allocate-node-cidrs",
            f"--cluster-cidr={POD_CIDR}",
            "--node-cidr-mask-size=24",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
        ],
        lambda: answers("https://127.0.0.1:10257/healthz"),
    )
    return ""


def start_scheduler() -> str:
    kubeconfig = str(STATE / "kubeconfig/kube-scheduler")
    start_and_wait(
        "kube-scheduler",
        [
            str(BIN / "kube-scheduler"),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
        ],
        lambda: answers("https://127.0.0.1:10259/healthz"),
    )
    return ""


def ctr() -> list[str]:
    return [str(BIN / "ctr"), "--address", str(STATE / "containerd/containerd.sock")]


def start_containerd() -> str:
    def ready() -> bool:
        result = subprocess.run([*ctr(), "version"], capture_output=True, check=False)  # noqa: S603
        return result.returncode == 0

    start_and_wait(
        "containerd",
        [str(BIN / "containerd"), "--config", str(STATE / "config/containerd.toml")],
        ready,
    )
    runc = subprocess.check_output(["runc", "--version"], text=True).splitlines()[0]  # noqa: S607
    return f"containerd {version_of('containerd')}, {runc} (Debian)"


def load_cluster_images() -> str:
    for program, name in (("pause", PAUSE_IMAGE), ("coredns", COREDNS_IMAGE)):
        images.load_binary_image(ctr(), BIN / program, name, STATE)
    return f"{PAUSE_IMAGE}, {COREDNS_IMAGE}"


def node_ready() -> bool:
    try:
        status = kubectl(
            "get", "node", NODE_NAME, "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
        )  # fmt: skip
    except subprocess.CalledProcessError:
        return False
    return status == "True"


def start_kubelet(ip: str) -> str:
    start_and_wait(
        "kubelet",
        [
            str(BIN / "kubelet"),
            f"--config={STATE / 'config/kubelet.yaml'}",
            f"--kubeconfig={STATE / 'kubeconfig/kubelet'}",
            f"--root-dir={STATE / 'kubelet'}",
            f"--hostname-override={NODE_NAME}",
            f"--node-ip={ip}",
        ],
        node_ready,
    )
    return f"node {NODE_NAME} Ready"


def start_kube_proxy() -> str:
    start_and_wait(
        "kube-proxy",
        [
            str(BIN / "kube-proxy"),
            f"--kubeconfig={STATE / 'kubeconfig/kube-proxy'}",
            f"--hostname-override={NODE_NAME}",
            f"--cluster-cidr={POD_CIDR}",
            "--proxy-mode=iptables",
            # 0: leave the machine's conntrack table size alone (it is not ours to change).
            "--conntrack-max-per-core=0",
            "--metrics-bind-address=127.0.0.1:10249",
            "--healthz-bind-address=127.0.0.1:10256",
        ],
        lambda: answers("http://127.0.0.1:10256/healthz"),
    )
    return "iptables mode"


def start_kube_router() -> str:
    """kube-router's NetworkPolicy firewall only: pods' networking is the CNI bridge's and
    Services are kube-proxy's."""
    kubectl("apply", "-f", "-", stdin=render("addons/kube-router.yaml"))
    start_and_wait(
        "kube-router",
        [
            str(BIN / "kube-router"),
            f"--kubeconfig={STATE / 'kubeconfig/kube-router'}",
            f"--hostname-override={NODE_NAME}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--run-firewall=true",
            "--run-router=false",
            "--run-service-proxy=false",
            "--enable-cni=false",
            "--enable-pod-egress=false",
            "--health-port=20244",
            # Policies apply within seconds of a change; this is only the full resync.
            "--iptables-sync-period=1m",
        ],
        lambda: answers("http://127.0.0.1:20244/healthz"),
    )
    return f"kube-router {version_of('kube-router')}: NetworkPolicy firewall (iptables, ipset)"


def start_dns() -> str:
    kubectl(
        "apply", "-f", "-",
        stdin=render("addons/coredns.yaml", coredns_image=COREDNS_IMAGE, dns_ip=DNS_IP),
    )  # fmt: skip
    kubectl("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s")
    return f"CoreDNS {version_of('coredns')} at {DNS_IP}"


def up() -> None:
    if STATE.exists():
        say(f"[cluster] a previous cluster's state is in {STATE}: stopping it first")
        down()
    started = time.monotonic()
    missing = [c.module for c in COMPONENTS for b in c.programs if not (BIN / b).exists()]
    if missing:
        raise Failure(f"programs of {sorted(set(missing))} are not built: make cluster-build")
    ip = node_ip()

    def prepare() -> str:
        pki.make_all(STATE / "pki", NODE_NAME, ip, SERVICE_IP)
        write_config(ip)
        return f"{STATE}, node IP {ip}"

    step("certificates and configuration", prepare)
    step("etcd", start_etcd)
    step("kube-apiserver", lambda: start_apiserver(ip))
    step("kube-controller-manager", start_controller_manager)
    step("kube-scheduler", start_scheduler)
    step("containerd", start_containerd)
    step("cluster images (pause, CoreDNS)", load_cluster_images)
    step("kubelet", lambda: start_kubelet(ip))
    step("kube-proxy", start_kube_proxy)
    step("NetworkPolicy enforcement", start_kube_router)
    step("cluster DNS", start_dns)
    say(f"[cluster] up in {time.monotonic() - started:.0f} s; {env_line()}")


def env_line() -> str:
    return f"export KUBECONFIG={STATE / 'kubeconfig/admin'} PATH={BIN}:$PATH"


# --- down -------------------------------------------------------------------------------------


def stop_pid(pid: int, seconds: float = 15) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def stop(name: str) -> None:
    pid_file = STATE / "pids" / f"{name}.pid"
    if pid_file.exists():
        stop_pid(int(pid_file.read_text()))
        pid_file.unlink()


def stop_pods() -> None:
    """Stops every pod through containerd's CRI (so the CNI plugins remove their addresses and
    iptables rules) before containerd itself stops."""
    crictl = [
        str(BIN / "crictl"),
        "--runtime-endpoint",
        f"unix://{STATE}/containerd/containerd.sock",
    ]
    if not running("containerd"):
        return
    pods = subprocess.run([*crictl, "pods", "-q"], capture_output=True, text=True, check=False)  # noqa: S603
    for pod in pods.stdout.split():
        subprocess.run([*crictl, "stopp", pod], capture_output=True, check=False)  # noqa: S603
        subprocess.run([*crictl, "rmp", "-f", pod], capture_output=True, check=False)  # noqa: S603


def shim_pids() -> list[int]:
    """containerd-shim processes of this cluster's containerd (their command line names its
    socket), which outlive containerd."""
    address = str(STATE / "containerd")
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            command
            and command[0].endswith(b"containerd-shim-runc-v2")
            and any(address.encode() in part for part in command)
        ):
            pids.append(int(proc.name))
    return pids


def kubepods_cgroups() -> list[Path]:
    """The kubelet's cgroups in every hierarchy, deepest first."""
    found = [path for path in CGROUP_ROOT.glob(f"*/{KUBEPODS}") if path.is_dir()]
    nested = [p for root in found for p in root.rglob("*") if p.is_dir()]
    return sorted([*found, *nested], key=lambda p: len(p.parts), reverse=True)


def remove_cgroups() -> None:
    """Kills what is left in the kubelet's cgroups (pod processes), then removes them."""
    for cgroup in kubepods_cgroups():
        for pid in (cgroup / "cgroup.procs").read_text().split():
            stop_pid(int(pid), seconds=0)
    for cgroup in kubepods_cgroups():
        for _ in range(20):
            try:
                cgroup.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def unmount_state() -> None:
    """Unmounts what the node mounted under the state folder (overlay rootfs, volumes, netns)."""
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    ours = sorted((m for m in mounts if m.startswith(str(STATE))), key=len, reverse=True)
    for mount in ours:
        subprocess.run(["umount", "-l", mount], capture_output=True, check=False)  # noqa: S603, S607


def remove_network() -> None:
    """The pods' bridge, and the iptables chains the kubelet, kube-proxy and the CNI plugins
    made (KUBE-*, CNI-*: names the Docker engine never uses), in both address families."""
    subprocess.run(["ip", "link", "delete", BRIDGE], capture_output=True, check=False)  # noqa: S603, S607
    for program in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle"):
            remove_chains(program, table)
    # kube-router's ipsets, once no rule uses them.
    names = subprocess.run(["ipset", "list", "-n"], capture_output=True, text=True, check=False)  # noqa: S607
    for name in names.stdout.split():
        if name.startswith(("KUBE-", "kube-router")):
            subprocess.run(["ipset", "destroy", name], capture_output=True, check=False)  # noqa: S603, S607


def remove_chains(program: str, table: str) -> None:
    def iptables(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [program, "-w", "-t", table, *args], capture_output=True, text=True, check=False
        )

    rules = iptables("-S").stdout.splitlines()
    ours = [line.split()[1] for line in rules if line.startswith("-N ") and ours_chain(line)]
    for rule in rules:
        words = shlex.split(rule)
        if rule.startswith("-A ") and not ours_chain(rule) and set(words) & set(ours):
            iptables("-D", *words[1:])
    for chain in ours:
        iptables("-F", chain)
    for chain in ours:
        iptables("-X", chain)


def ours_chain(rule: str) -> bool:
    """True for `-N KUBE-…` / `-A CNI-… …`: a chain of the cluster's, or a rule inside one."""
    return rule.split()[1].startswith(("KUBE-", "CNI-"))


def down() -> None:
    started = time.monotonic()
    if not STATE.exists():
        say(f"[cluster] nothing to stop ({STATE} does not exist)")
        return
    stop("kubelet")
    stop_pods()
    for name in (
        "kube-router",
        "kube-proxy",
        "containerd",
        "kube-scheduler",
        "kube-controller-manager",
    ):
        stop(name)
    for pid in shim_pids():
        stop_pid(pid, seconds=5)
    stop("kube-apiserver")
    stop("etcd")
    remove_cgroups()
    unmount_state()
    remove_network()
    shutil.rmtree(STATE)
    say(f"[cluster] down in {time.monotonic() - started:.1f} s: {STATE} removed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "env"])
    command = parser.parse_args().command
    if command == "env":
        print(env_line())
        return 0
    try:
        up() if command == "up" else down()
    except (Failure, subprocess.CalledProcessError) as error:
        say(f"[cluster] FAILED: {error}", sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
