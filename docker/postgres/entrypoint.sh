#!/usr/bin/env bash
# First start: initdb into PGDATA, set the superuser's password, create POSTGRES_DB, accept
# connections from any address (the compose network). Later starts: just run the server.
# Local stacks only: production uses a managed PostgreSQL.
#
#   POSTGRES_USER      superuser name                 (default postgres)
#   POSTGRES_PASSWORD  its password; empty: trust authentication for every host (the
#                      official image's POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_DB        database created on first start (default: POSTGRES_USER's name)
set -euo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_PASSWORD:=}"
: "${POSTGRES_DB:=${POSTGRES_USER}}"

say() { echo "postgres-entrypoint: $*" >&2; }

if [ "${1:-postgres}" != postgres ]; then
    exec "$@"
fi

if [ ! -s "${PGDATA}/PG_VERSION" ]; then
    say "initialising ${PGDATA} (user ${POSTGRES_USER}, database ${POSTGRES_DB})"
    if [ -n "${POSTGRES_PASSWORD}" ]; then
        host_auth=scram-sha-256
        pwfile="$(mktemp)"
        printf '%s\n' "${POSTGRES_PASSWORD}" >"${pwfile}"
        initdb --pgdata="${PGDATA}" --username="${POSTGRES_USER}" --pwfile="${pwfile}" \
            --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host="${host_auth}" >&2
        rm -f "${pwfile}"
    else
        host_auth=trust
        say "POSTGRES_PASSWORD is empty: trusting every connection (local use only)"
        initdb --pgdata="${PGDATA}" --username="${POSTGRES_USER}" \
            --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=trust >&2
    fi
    printf '\n# Added by postgres-entrypoint: the compose network.\nhost all all all %s\n' \
        "${host_auth}" >>"${PGDATA}/pg_hba.conf"
    printf "\nlisten_addresses = '*'\n" >>"${PGDATA}/postgresql.conf"
    if [ "${POSTGRES_DB}" != postgres ]; then
        say "creating database ${POSTGRES_DB}"
        # Single-user mode: nothing listens until initialisation is over, so a healthcheck
        # over TCP cannot report ready too early.
        echo "CREATE DATABASE \"${POSTGRES_DB}\" OWNER \"${POSTGRES_USER}\";" \
            | postgres --single -D "${PGDATA}" -j postgres >/dev/null
    fi
    say "initialised"
fi

shift || true
exec postgres -D "${PGDATA}" "$@"
