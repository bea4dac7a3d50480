#!/usr/bin/env bash
# Build a Debian + Python base image without a registry: debootstrap a minimal root
# filesystem and `docker import` it. CI and registry-less machines pass it to the Dockerfiles
# as BASE_IMAGE; users with Docker Hub get the official python image instead.
#
#   BASE_IMAGE   tag to create            (default local/python-base:bookworm)
#   SUITE        Debian suite             (default bookworm: Python 3.11; trixie: 3.13)
#   MIRROR       Debian mirror            (default: first URI in /etc/apt/sources.list.d/debian.sources)
#   CA_BUNDLE    CA bundle to trust       (default /etc/ssl/certs/ca-certificates.crt: the host's,
#                which holds the CA of any TLS-inspecting proxy in the way)
#   FORCE=1      rebuild even when the tag exists
#
# Needs root, debootstrap (installed with apt-get when missing) and a reachable engine.
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-local/python-base:bookworm}"
SUITE="${SUITE:-bookworm}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
SOURCES=/etc/apt/sources.list.d/debian.sources

say() { echo "==> [base-image] $*" >&2; }

if [ "${FORCE:-0}" != 1 ] && docker image inspect "${BASE_IMAGE}" >/dev/null 2>&1; then
    say "${BASE_IMAGE} exists; skipping (FORCE=1 rebuilds it)"
    exit 0
fi

# First URI of the stanza for the main archive, and the security archive if listed.
uri_for() {
    awk -v want="$1" '
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i ~ want) { print uri; exit } }
    ' "${SOURCES}" 2>/dev/null || true
}
MIRROR="${MIRROR:-$(uri_for '^[a-z]+$')}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="$(uri_for '-security$')"

if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap with apt-get"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
fi

ROOTFS="$(mktemp -d "${TMPDIR:-/var/tmp}/python-base-rootfs.XXXXXX")"
cleanup() { rm -rf "${ROOTFS}"; }
trap cleanup EXIT

say "debootstrap ${SUITE} (minbase + python3, python3-venv, python3-pip, ca-certificates) from ${MIRROR}"
started=$(date +%s)
debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,ca-certificates \
    "${SUITE}" "${ROOTFS}" "${MIRROR}" >&2

say "apt sources: ${SUITE}, ${SUITE}-updates${SECURITY_MIRROR:+, ${SUITE}-security}"
rm -f "${ROOTFS}/etc/apt/sources.list"
{
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "${MIRROR}" "${SUITE}" "${SUITE}"
    if [ -n "${SECURITY_MIRROR}" ]; then
        printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "${SECURITY_MIRROR}" "${SUITE}"
    fi
} >"${ROOTFS}/etc/apt/sources.list.d/debian.sources"

say "trusting the host CA bundle ${CA_BUNDLE}"
# Both the live bundle and a copy that update-ca-certificates folds back in on later runs.
install -m 0644 "${CA_BUNDLE}" "${ROOTFS}/etc/ssl/certs/ca-certificates.crt"
install -m 0644 "${CA_BUNDLE}" "${ROOTFS}/usr/local/share/ca-certificates/host-ca-bundle.crt"

say "trimming caches, docs and man pages"
rm -rf "${ROOTFS}"/var/lib/apt/lists/* "${ROOTFS}"/var/cache/apt/*.bin \
    "${ROOTFS}"/var/cache/apt/archives/*.deb "${ROOTFS}"/usr/share/doc/* \
    "${ROOTFS}"/usr/share/man/* "${ROOTFS}"/usr/share/info/* "${ROOTFS}"/var/log/*.log
# Message catalogues: the image runs with LANG=C.UTF-8 (about 30 MB).
find "${ROOTFS}/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
# Same conventions as the official python images.
cat >"${ROOTFS}/etc/dpkg/dpkg.cfg.d/01-container-excludes" <<'CFG'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
CFG

say "importing as ${BASE_IMAGE}"
tar -C "${ROOTFS}" --numeric-owner -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' \
    --message "debootstrap ${SUITE} minbase + python3 (docker/build-base-image.sh)" \
    - "${BASE_IMAGE}" >&2
say "done in $(( $(date +%s) - started )) s: $(docker image inspect -f '{{.Size}}' "${BASE_IMAGE}" | awk '{printf "%.0f MB", $1/1e6}')"
