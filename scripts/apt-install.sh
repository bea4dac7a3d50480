#!/usr/bin/env bash
# Install Debian packages for a make target, saying what and why, unless what they provide is
# here already. Root, or sudo without a password, is needed only when something is missing.
#
#   scripts/apt-install.sh --why TEXT [--needs COMMAND]... PACKAGE...
#
# With --needs: nothing happens when every COMMAND is found (on PATH, or as a path).
# Without: the packages are installed (apt-get skips those already there).
set -euo pipefail

why="" needs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --why) why="$2"; shift 2 ;;
        --needs) needs+=("$2"); shift 2 ;;
        --) shift; break ;;
        -*) echo "usage: $0 --why TEXT [--needs COMMAND]... PACKAGE..." >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: $0 --why TEXT [--needs COMMAND]... PACKAGE..." >&2; exit 2; }

missing=()
for command in "${needs[@]}"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("$command")
done
if [ ${#needs[@]} -gt 0 ] && [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "==> apt-get: need root (or sudo) to install $* for ${why}; install them yourself" >&2
    exit 1
fi

echo "==> Installing Debian's $* with apt-get, for ${why}${missing[*]:+ (missing: ${missing[*]})}" >&2
started=$(date +%s)
# No service may start during the install (postgresql's package would start its own cluster
# on 5432): policy-rc.d answers 101, "action forbidden", while apt-get runs.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
    "${as_root[@]}" chmod 755 "$policy"
    trap '"${as_root[@]}" rm -f "$policy"' EXIT
fi
# apt's own output goes to a log, shown only when it fails.
log="$(mktemp)"
if ! { "${as_root[@]}" apt-get update -qq \
    && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "==> apt-get failed to install $*" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"
echo "==> Installed $* in $(( $(date +%s) - started )) s" >&2
