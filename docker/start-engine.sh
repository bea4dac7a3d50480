#!/usr/bin/env bash
# Start a private Docker engine for machines without Docker Desktop or a system daemon
# (CI, Debian build hosts). Idempotent: when the engine in ENGINE_DIR already answers, it is
# reused. Prints the line to evaluate:   eval "$(docker/start-engine.sh)"
#
#   ENGINE_DIR   scratch folder for data-root, exec-root, socket, pid and log
#                (default /var/tmp/wsgateway-engine)
#
# Everything informative goes to stderr; stdout carries only `export DOCKER_HOST=...`.
set -euo pipefail

ENGINE_DIR="${ENGINE_DIR:-/var/tmp/wsgateway-engine}"
SOCKET="${ENGINE_DIR}/docker.sock"
PIDFILE="${ENGINE_DIR}/dockerd.pid"
LOGFILE="${ENGINE_DIR}/dockerd.log"
CONFIG="${ENGINE_DIR}/daemon.json"
export DOCKER_HOST="unix://${SOCKET}"

say() { echo "==> [engine] $*" >&2; }

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

"$(dirname "$0")/../scripts/apt-install.sh" --why "the private Docker engine" \
    --needs dockerd --needs docker-compose --needs docker docker.io docker-compose iptables

mkdir -p "${ENGINE_DIR}/data" "${ENGINE_DIR}/exec"

if [ -S "${SOCKET}" ] && engine_answers; then
    say "reusing the running engine at ${SOCKET} (server $(docker version --format '{{.Server.Version}}'))"
    echo "export DOCKER_HOST=${DOCKER_HOST}"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "dockerd must be started as root"
    exit 1
fi

# A stale pid file or socket from an engine that died: clear them before starting anew.
if [ -f "${PIDFILE}" ] && kill -0 "$(cat "${PIDFILE}")" 2>/dev/null; then
    say "dockerd pid $(cat "${PIDFILE}") is running but does not answer; stop it first (docker/stop-engine.sh)"
    exit 1
fi
rm -f "${PIDFILE}" "${SOCKET}"

cat >"${CONFIG}" <<JSON
{
  "data-root": "${ENGINE_DIR}/data",
  "exec-root": "${ENGINE_DIR}/exec",
  "pidfile": "${PIDFILE}",
  "hosts": ["unix://${SOCKET}"],
  "storage-driver": "overlay2",
  "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 20000, "Hard": 20000}},
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "3"}
}
JSON

say "starting dockerd (config ${CONFIG}, log ${LOGFILE})"
# --config-file alone: every setting lives in the generated daemon.json. setsid detaches it
# from this shell so it survives the caller (make, CI step) ending.
setsid dockerd --config-file "${CONFIG}" >"${LOGFILE}" 2>&1 </dev/null &

for _ in $(seq 1 60); do
    if [ -S "${SOCKET}" ] && engine_answers; then
        say "engine ready: server $(docker version --format '{{.Server.Version}}'), pid $(cat "${PIDFILE}")"
        echo "export DOCKER_HOST=${DOCKER_HOST}"
        exit 0
    fi
    sleep 1
done
say "dockerd did not answer within 60 s; last lines of ${LOGFILE}:"
tail -n 20 "${LOGFILE}" >&2 || true
exit 1
