#!/usr/bin/env bash
# `make dev`: the Django development server on :8000 and the API Gateway emulator on :8001,
# wired to each other as in the compose stack; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/../app"
PY="${PY:-../.venv/bin/python}"

# Development-only values: the emulator and Django share them; nothing here is a real secret.
export WS_GATEWAY_SECRET="${WS_GATEWAY_SECRET:-local-dev-gateway-secret-0123456789abcdef}"
export WS_MANAGEMENT_ENDPOINT_URL="http://127.0.0.1:8001"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"

echo "==> Migrations and the demo user"
"$PY" manage.py migrate --noinput
"$PY" manage.py seed_local_stack --api-id local --stage local --target http://localhost:8000/ws/

echo "==> Gateway emulator on ws://localhost:8001/local"
EMULATOR_PORT=8001 EMULATOR_TARGET_URL=http://localhost:8000/ws/ EMULATOR_UPSTREAM=127.0.0.1:8000 \
  EMULATOR_API_ID=local EMULATOR_STAGE=local EMULATOR_GATEWAY_SECRET="$WS_GATEWAY_SECRET" \
  LOG_FORMAT=console "$PY" -m gateway_emulator &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true' EXIT

echo "==> Demo page: http://localhost:8000/  (sign in as ${DEMO_USERNAME:-demo} / ${DEMO_PASSWORD:-})"
"$PY" manage.py runserver 0.0.0.0:8000
