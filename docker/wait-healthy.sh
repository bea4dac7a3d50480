#!/usr/bin/env bash
# Wait until every service of a compose project is up: healthy where it has a healthcheck,
# running where it has none, exited 0 for one-shot services (migrate). Works the same for
# docker-compose v1 and `docker compose` v2 (it reads the containers' compose labels).
#
#   docker/wait-healthy.sh PROJECT TIMEOUT_SECONDS [SERVICE...]
#
# Without SERVICE arguments: every service that has a container in the project (after
# `compose up` that is every service of the active profiles). One-off `compose run`
# containers are ignored.
#
# Exits 1 on timeout or when a container exits non-zero / turns unhealthy, after printing
# the last log lines of the containers that are not ready.
set -euo pipefail

project="$1"
timeout="$2"
shift 2
services=("$@")
if [ "${#services[@]}" -eq 0 ]; then
    mapfile -t services < <(docker ps -a \
        --filter "label=com.docker.compose.project=${project}" \
        --filter "label=com.docker.compose.oneoff=False" \
        --format '{{.Label "com.docker.compose.service"}}' | sort -u)
fi
if [ "${#services[@]}" -eq 0 ]; then
    echo "==> [wait] project ${project} has no containers"
    exit 1
fi

# One line per service: "<service> <state>" where state is ready, waiting:<why> or failed:<why>.
service_state() {
    local service="$1" ids id status health exit_code restart
    ids="$(docker ps -aq --filter "label=com.docker.compose.project=${project}" \
        --filter "label=com.docker.compose.oneoff=False" \
        --filter "label=com.docker.compose.service=${service}")"
    if [ -z "${ids}" ]; then
        echo "waiting:no-container"
        return
    fi
    for id in ${ids}; do
        read -r status health exit_code restart < <(docker inspect -f \
            '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}' \
            "${id}")
        case "${status}:${health}" in
            running:healthy | running:none) ;;
            running:unhealthy) echo "failed:unhealthy"; return ;;
            running:*) echo "waiting:${health}"; return ;;
            exited:*)
                if [ "${exit_code}" = 0 ] && { [ "${restart}" = no ] || [ -z "${restart}" ]; }; then
                    :
                else
                    echo "failed:exited-${exit_code}"
                    return
                fi
                ;;
            *) echo "waiting:${status}"; return ;;
        esac
    done
    echo ready
}

started=$(date +%s)
last=""
while :; do
    report=""
    pending=0
    failed=0
    for service in "${services[@]}"; do
        state="$(service_state "${service}")"
        report+="${service}=${state} "
        case "${state}" in
            ready) ;;
            failed:*) failed=1 ;;
            *) pending=1 ;;
        esac
    done
    elapsed=$(( $(date +%s) - started ))
    if [ "${report}" != "${last}" ]; then
        echo "==> [wait] ${elapsed}s ${report}"
        last="${report}"
    fi
    if [ "${failed}" = 0 ] && [ "${pending}" = 0 ]; then
        exit 0
    fi
    if [ "${failed}" = 1 ] || [ "${elapsed}" -ge "${timeout}" ]; then
        [ "${failed}" = 1 ] && echo "==> [wait] a service failed" || echo "==> [wait] not healthy after ${timeout}s"
        for service in "${services[@]}"; do
            state="$(service_state "${service}")"
            [ "${state}" = ready ] && continue
            for id in $(docker ps -aq --filter "label=com.docker.compose.project=${project}" \
                --filter "label=com.docker.compose.oneoff=False" \
                --filter "label=com.docker.compose.service=${service}"); do
                echo "----- ${service} (${state}): last log lines"
                docker logs --tail 20 "${id}" 2>&1 || true
            done
        done
        exit 1
    fi
    sleep 1
done
