"""Certificates and kubeconfigs of the local cluster, made with the openssl CLI.

One CA signs everything; each component gets its own client identity so that the Node
authorizer, NodeRestriction and the default RBAC roles apply as on a real cluster. Keys are
P-256 (fast to make). The files live under the cluster's state folder and go with it.
"""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

DAYS = "30"


@dataclass(frozen=True)
class Identity:
    """A certificate's subject, its SANs (serving certificates only) and its kubeconfig user."""

    name: str
    common_name: str
    organisation: str = ""
    sans: tuple[str, ...] = ()


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: S603, S607


def make_ca(pki: Path) -> None:
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(pki / "ca.key"), "-out", str(pki / "ca.crt"), "-days", DAYS,
        "-subj", "/CN=wsgateway-local-cluster-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    )  # fmt: skip


def make_certificate(pki: Path, identity: Identity) -> None:
    """A key and a CA-signed certificate: for clients, or for servers when it has SANs."""
    key, csr, crt = (pki / f"{identity.name}.{ext}" for ext in ("key", "csr", "crt"))
    subject = f"/CN={identity.common_name}" + (
        f"/O={identity.organisation}" if identity.organisation else ""
    )
    openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", subject,
    )  # fmt: skip
    usage = "serverAuth,clientAuth" if identity.sans else "clientAuth"
    extensions = pki / f"{identity.name}.ext"
    lines = ["keyUsage=critical,digitalSignature,keyEncipherment", f"extendedKeyUsage={usage}"]
    if identity.sans:
        lines.append("subjectAltName=" + ",".join(identity.sans))
    extensions.write_text("\n".join(lines) + "\n")
    openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"),
        "-CAcreateserial", "-out", str(crt), "-days", DAYS, "-extfile", str(extensions),
    )  # fmt: skip
    csr.unlink()
    extensions.unlink()


def write_kubeconfig(path: Path, pki: Path, user: str, server: str) -> None:
    """A kubeconfig (JSON is YAML) naming the certificate files rather than embedding them."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "wsgateway-local",
                "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate": str(pki / f"{user}.crt"),
                    "client-key": str(pki / f"{user}.key"),
                },
            }
        ],
        "contexts": [
            {"name": "wsgateway-local", "context": {"cluster": "wsgateway-local", "user": user}}
        ],
        "current-context": "wsgateway-local",
    }
    path.write_text(json.dumps(config, indent=2) + "\n")


def make_all(pki: Path, node_name: str, node_ip: str, service_ip: str) -> None:
    """Every file the cluster needs, unless the CA is already there (a restart reuses them)."""
    if (pki / "ca.crt").exists():
        return
    pki.mkdir(parents=True, exist_ok=True)
    make_ca(pki)
    local = ("IP:127.0.0.1", "DNS:localhost")
    identities = [
        Identity(
            "apiserver",
            "kube-apiserver",
            sans=(
                *local,
                f"IP:{node_ip}",
                f"IP:{service_ip}",
                *(
                    f"DNS:{name}"
                    for name in (
                        "kubernetes",
                        "kubernetes.default",
                        "kubernetes.default.svc",
                        "kubernetes.default.svc.cluster.local",
                    )
                ),
            ),
        ),
        Identity(
            "kubelet-serving",
            f"system:node:{node_name}",
            "system:nodes",
            sans=(*local, f"IP:{node_ip}", f"DNS:{node_name}"),
        ),
        Identity("admin", "wsgateway-admin", "system:masters"),
        # The apiserver's identity towards kubelets (logs, exec): the built-in role that allows it.
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters"),
        Identity("kube-controller-manager", "system:kube-controller-manager"),
        Identity("kube-scheduler", "system:kube-scheduler"),
        Identity("kubelet", f"system:node:{node_name}", "system:nodes"),
        Identity("kube-proxy", "system:kube-proxy"),
        Identity("kube-router", "system:kube-router"),
    ]
    for identity in identities:
        make_certificate(pki, identity)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
            "-out", str(pki / "service-accounts.key"))  # fmt: skip
    openssl("pkey", "-in", str(pki / "service-accounts.key"), "-pubout",
            "-out", str(pki / "service-accounts.pub"))  # fmt: skip
