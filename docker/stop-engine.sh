#!/usr/bin/env bash
# Stop the private engine started by docker/start-engine.sh (by its pid, nothing else).
# Containers still running are stopped by dockerd as it shuts down. Images and volumes stay in
# ENGINE_DIR/data for the next start; delete that folder to reclaim the space.
set -euo pipefail

ENGINE_DIR="${ENGINE_DIR:-/var/tmp/wsgateway-engine}"
PIDFILE="${ENGINE_DIR}/dockerd.pid"

say() { echo "==> [engine] $*" >&2; }

if [ ! -f "${PIDFILE}" ]; then
    say "no engine pid file at ${PIDFILE}: nothing to stop"
    exit 0
fi
pid="$(cat "${PIDFILE}")"
if ! kill -0 "${pid}" 2>/dev/null; then
    say "dockerd pid ${pid} is not running; removing the stale pid file"
    rm -f "${PIDFILE}"
    exit 0
fi
say "stopping dockerd pid ${pid}"
kill -TERM "${pid}"
for _ in $(seq 1 30); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 1
done
if kill -0 "${pid}" 2>/dev/null; then
    say "dockerd pid ${pid} still running after 30 s; sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    sleep 1
fi
say "engine stopped"

# dockerd can leave mounts behind in its scratch folder (network namespaces, the data-root
# bind mount); release them, deepest first, so ENGINE_DIR can be deleted.
awk -v dir="${ENGINE_DIR}" '$2 == dir || index($2, dir "/") == 1 { print $2 }' /proc/mounts \
    | sort -r | while read -r mountpoint; do
        umount "${mountpoint}" 2>/dev/null || umount -l "${mountpoint}" 2>/dev/null || true
        say "released mount ${mountpoint}"
    done
