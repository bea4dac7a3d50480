#!/usr/bin/env bash
# `make dev`: the Django development server and the API Gateway emulator, wired to each other
# as in the compose stack; Ctrl-C stops both.
#
#   DEV_BIND      address both listen on (default 127.0.0.1: this machine only). The
#                 development server runs with DEBUG and a demo superuser, and the emulator's
#                 Management API has no authentication: 0.0.0.0 shows all of it to your network.
#   DEV_WEB_PORT  the app (default 8000)     DEV_WS_PORT  the emulator (default 8001)
set -euo pipefail
cd "$(dirname "$0")/../app"
PY="${PY:-../.venv/bin/python}"
BIND="${DEV_BIND:-127.0.0.1}"
WEB_PORT="${DEV_WEB_PORT:-8000}"
WS_PORT="${DEV_WS_PORT:-8001}"

if [ "$BIND" != 127.0.0.1 ] && [ "$BIND" != localhost ] && [ "$BIND" != ::1 ]; then
    echo "==> WARNING: DEV_BIND=$BIND: anyone who reaches this machine gets a DEBUG server, the" \
        "demo sign-in and an unauthenticated Management API. Use it on a network you trust." >&2
fi

# Development-only values: the emulator and Django share them; nothing here is a real secret.
export WS_GATEWAY_SECRET="${WS_GATEWAY_SECRET:-local-dev-gateway-secret-0123456789abcdef}"
export WS_MANAGEMENT_ENDPOINT_URL="http://127.0.0.1:${WS_PORT}"
export WS_INTEGRATION_HOST="localhost:${WEB_PORT}" WS_PUBLIC_URL="ws://localhost:${WS_PORT}/local"
# The development server's DEBUG pages (off by default in every profile).
export DEBUG="${DEBUG:-true}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"

echo "==> Migrations and the demo user"
"$PY" manage.py migrate --noinput
"$PY" manage.py seed_local_stack --api-id local --stage local \
    --target "http://localhost:${WEB_PORT}/ws/"

echo "==> Gateway emulator on ws://localhost:${WS_PORT}/local (listening on ${BIND})"
EMULATOR_HOST="$BIND" EMULATOR_PORT="$WS_PORT" EMULATOR_TARGET_URL="http://localhost:${WEB_PORT}/ws/" \
  EMULATOR_UPSTREAM="127.0.0.1:${WEB_PORT}" EMULATOR_API_ID=local EMULATOR_STAGE=local \
  EMULATOR_GATEWAY_SECRET="$WS_GATEWAY_SECRET" EMULATOR_AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
  EMULATOR_AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" LOG_FORMAT=console "$PY" -m gateway_emulator &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true' EXIT

echo "==> Demo page: http://localhost:${WEB_PORT}/  (sign in as ${DEMO_USERNAME:-demo} / ${DEMO_PASSWORD:-})"
"$PY" manage.py runserver "${BIND}:${WEB_PORT}"
