#!/usr/bin/env bash
# Decide which base and PostgreSQL images this machine uses, making them when no registry
# is reachable. Prints the chosen image name on stdout; what it does goes to stderr.
#
#   docker/images.sh base       BASE_IMAGE for the app image's Dockerfile
#   docker/images.sh postgres   POSTGRES_IMAGE for docker-compose.yml
#   docker/images.sh postgres --no-build   name only, never pulls or builds (down, logs)
#   docker/images.sh prometheus PROMETHEUS_IMAGE: local/prometheus:bookworm, always built
#                    here from Debian's package (docker/prometheus) on the base above
#
# An explicit BASE_IMAGE / POSTGRES_IMAGE always wins. Otherwise the official image
# (python:3.11-slim-bookworm, postgres:15) when it is present or can be pulled; in CI
# (CI=true) or without a registry, the local ones: local/python-base:bookworm from
# docker/build-base-image.sh, local/postgres:15 from docker/postgres/Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."

OFFICIAL_BASE=python:3.11-slim-bookworm
LOCAL_BASE=local/python-base:bookworm
OFFICIAL_POSTGRES=postgres:15
LOCAL_POSTGRES=local/postgres:15
LOCAL_PROMETHEUS=local/prometheus:bookworm
PULL_TIMEOUT="${PULL_TIMEOUT:-120}"

say() { echo "==> [images] $*" >&2; }
present() { docker image inspect "$1" >/dev/null 2>&1; }

# The official image when it is here or can be pulled; never tried in CI.
official_available() {
    present "$1" && return 0
    if [ "${CI:-}" = true ]; then
        return 1
    fi
    say "pulling $1"
    if timeout "${PULL_TIMEOUT}" docker pull --quiet "$1" >/dev/null 2>&1; then
        return 0
    fi
    say "cannot pull $1 (no registry reachable?): using a locally built image instead"
    return 1
}

base_image() {
    if [ -n "${BASE_IMAGE:-}" ]; then
        if [ "${BASE_IMAGE}" = "${LOCAL_BASE}" ]; then
            BASE_IMAGE="${LOCAL_BASE}" docker/build-base-image.sh
        fi
        echo "${BASE_IMAGE}"
    elif official_available "${OFFICIAL_BASE}"; then
        echo "${OFFICIAL_BASE}"
    else
        BASE_IMAGE="${LOCAL_BASE}" docker/build-base-image.sh
        echo "${LOCAL_BASE}"
    fi
}

build_local_postgres() {
    if present "${LOCAL_POSTGRES}"; then
        return 0
    fi
    local base
    base="$(base_image)"
    say "building ${LOCAL_POSTGRES} from docker/postgres on ${base}"
    docker build --quiet --build-arg BASE_IMAGE="${base}" -t "${LOCAL_POSTGRES}" \
        docker/postgres >&2
}

postgres_image() {
    if [ -n "${POSTGRES_IMAGE:-}" ]; then
        if [ "${POSTGRES_IMAGE}" = "${LOCAL_POSTGRES}" ]; then
            build_local_postgres
        fi
        echo "${POSTGRES_IMAGE}"
    elif official_available "${OFFICIAL_POSTGRES}"; then
        echo "${OFFICIAL_POSTGRES}"
    else
        build_local_postgres
        echo "${LOCAL_POSTGRES}"
    fi
}

# Rebuilt when docker/prometheus changes (the build cache makes an unchanged one instant).
prometheus_image() {
    local base
    base="$(base_image)"
    say "building ${LOCAL_PROMETHEUS} from docker/prometheus on ${base}"
    docker build --quiet --build-arg BASE_IMAGE="${base}" -t "${LOCAL_PROMETHEUS}" \
        docker/prometheus >&2
    echo "${LOCAL_PROMETHEUS}"
}

# Name only: what a running stack most likely uses. No pull, no build.
postgres_image_name() {
    if [ -n "${POSTGRES_IMAGE:-}" ]; then
        echo "${POSTGRES_IMAGE}"
    elif present "${OFFICIAL_POSTGRES}" || ! present "${LOCAL_POSTGRES}"; then
        echo "${OFFICIAL_POSTGRES}"
    else
        echo "${LOCAL_POSTGRES}"
    fi
}

case "${1:-}:${2:-}" in
    base:) base_image ;;
    postgres:) postgres_image ;;
    postgres:--no-build) postgres_image_name ;;
    prometheus:) prometheus_image ;;
    *)
        echo "usage: $0 base | postgres [--no-build] | prometheus" >&2
        exit 2
        ;;
esac
