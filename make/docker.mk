# Container image and local stack (docs/image.md, docs/local-stack.md).
# Included by the main Makefile. Targets: image, up, down, logs, engine, engine-stop, smoke-test,
# chromium, e2e.

APP_IMAGE ?= wsgateway-app:local
COMPOSE_PROJECT ?= wsgateway
# Scratch folder of the private engine started by `make engine` (docker/start-engine.sh).
ENGINE_DIR ?= /var/tmp/wsgateway-engine
# Seconds `make up` waits for every service to be healthy.
UP_TIMEOUT ?= 300
# Host ports of the demo page and of the gateway emulator (docs/local-stack.md).
LOCAL_WEB_PORT ?= 8000
LOCAL_WS_PORT ?= 8001
# Host port of the local Prometheus's UI (127.0.0.1 only).
LOCAL_PROMETHEUS_PORT ?= 9090

# `docker compose` (v2) when the plugin works, else docker-compose (v1). Recursive, so it is
# worked out only when one of these recipes runs.
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

# Shell prefix of every recipe here: when no engine answers on DOCKER_HOST / the default
# socket but the private one runs, use it (so `make engine && make up` needs no export).
DOCKER_ENV = if ! docker version >/dev/null 2>&1 && [ -S "$(ENGINE_DIR)/docker.sock" ]; then \
	export DOCKER_HOST="unix://$(ENGINE_DIR)/docker.sock"; fi;
# Environment of every compose command: project, image, demo sign-in, ports, and the engine's
# socket and its group for the smoke service (docker-compose.yml). Usable by other targets:
#   @$(DOCKER_ENV) $(COMPOSE_ENV) $(COMPOSE) run --rm smoke
COMPOSE_ENV = export COMPOSE_PROJECT_NAME="$(COMPOSE_PROJECT)" APP_IMAGE="$(APP_IMAGE)" \
	DEMO_USERNAME="$(DEMO_USERNAME)" DEMO_PASSWORD="$(DEMO_PASSWORD)" \
	LOCAL_WEB_PORT="$(LOCAL_WEB_PORT)" LOCAL_WS_PORT="$(LOCAL_WS_PORT)" \
	LOCAL_PROMETHEUS_PORT="$(LOCAL_PROMETHEUS_PORT)"; \
	DOCKER_SOCKET="$${DOCKER_HOST:-unix:///var/run/docker.sock}"; \
	export DOCKER_SOCKET="$${DOCKER_SOCKET\#unix://}"; \
	export DOCKER_GID="$$(stat -c %g "$$DOCKER_SOCKET" 2>/dev/null || echo 0)";

.PHONY: engine
engine: ## Start a private Docker engine (docker/start-engine.sh) unless one is reachable
	@$(DOCKER_ENV) if docker version >/dev/null 2>&1; then \
		echo "==> Docker engine reachable at $${DOCKER_HOST:-the default socket}: nothing to start"; \
	else \
		echo "==> No Docker engine reachable: starting a private one in $(ENGINE_DIR)"; \
		ENGINE_DIR="$(ENGINE_DIR)" docker/start-engine.sh >/dev/null; \
		echo "    make finds it by itself; in your shell: export DOCKER_HOST=unix://$(ENGINE_DIR)/docker.sock"; \
	fi

.PHONY: engine-stop
engine-stop: ## Stop the private Docker engine started by `make engine`
	@echo "==> Stopping the private Docker engine in $(ENGINE_DIR)"
	@ENGINE_DIR="$(ENGINE_DIR)" docker/stop-engine.sh

.PHONY: image
image: engine ## Build the app image (APP_IMAGE); base: official python, or a local one without a registry
	@$(DOCKER_ENV) set -e; \
	base="$$(docker/images.sh base)"; \
	echo "==> Building $(APP_IMAGE) with BASE_IMAGE=$$base"; \
	started=$$(date +%s); \
	docker build \
		--build-arg BASE_IMAGE="$$base" \
		--build-arg VERSION="$$(git describe --tags --always --dirty 2>/dev/null || echo dev)" \
		--build-arg REVISION="$$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
		--build-arg CREATED="$$(git log -1 --format=%cI 2>/dev/null || echo unknown)" \
		-t "$(APP_IMAGE)" . ; \
	echo "==> Built $(APP_IMAGE) in $$(( $$(date +%s) - started )) s:" \
		"$$(docker image inspect -f '{{.Size}}' "$(APP_IMAGE)" | awk '{printf "%.0f MB", $$1/1e6}')"

.PHONY: up
up: image ## Build and start the local stack (docker-compose.yml), wait until healthy
	@$(DOCKER_ENV) $(COMPOSE_ENV) set -e; \
	export POSTGRES_IMAGE="$$(docker/images.sh postgres)"; \
	export PROMETHEUS_IMAGE="$$(docker/images.sh prometheus)"; \
	echo "==> Starting the stack with $(COMPOSE) (project $(COMPOSE_PROJECT), $(APP_IMAGE), $$POSTGRES_IMAGE, $$PROMETHEUS_IMAGE)"; \
	started=$$(date +%s); \
	timeout=$(UP_TIMEOUT); \
	$(COMPOSE) up -d --no-build --remove-orphans || timeout=0; \
	echo "==> Waiting until every service is healthy (at most $$timeout s)"; \
	docker/wait-healthy.sh "$(COMPOSE_PROJECT)" "$$timeout"; \
	echo "==> Healthy $$(( $$(date +%s) - started )) s after starting the stack"; \
	echo "    Demo page:  http://localhost:$(LOCAL_WEB_PORT)/"; \
	echo "    Sign in:    $(DEMO_USERNAME) / $(DEMO_PASSWORD)"; \
	echo "    WebSocket:  ws://localhost:$(LOCAL_WS_PORT)/local (gateway emulator)"; \
	echo "    Prometheus: http://127.0.0.1:$(LOCAL_PROMETHEUS_PORT)/ (both web replicas' /metrics)"; \
	echo "    make logs follows the logs, make down stops it all"

.PHONY: down
down: ## Stop and remove the local stack (VOLUMES=1 also deletes its database)
	@$(DOCKER_ENV) $(COMPOSE_ENV) \
	export POSTGRES_IMAGE="$$(docker/images.sh postgres --no-build)"; \
	echo "==> Stopping the stack (project $(COMPOSE_PROJECT))$(if $(filter 1,$(VOLUMES)), and deleting its database volume)"; \
	$(COMPOSE) down --remove-orphans $(if $(filter 1,$(VOLUMES)),--volumes)

.PHONY: logs
logs: ## Follow the logs of every service of the local stack
	@$(DOCKER_ENV) $(COMPOSE_ENV) \
	export POSTGRES_IMAGE="$$(docker/images.sh postgres --no-build)"; \
	echo "==> Following the logs of project $(COMPOSE_PROJECT) (Ctrl-C stops following, not the stack)"; \
	$(COMPOSE) logs -f --tail=100

.PHONY: smoke-test
smoke-test: ## The deployment smoke test: in the compose stack, or against SMOKE_BASE_URL from here
ifdef SMOKE_BASE_URL
	@echo "==> Smoke test against $(SMOKE_BASE_URL) from this machine (database steps only with SMOKE_DATABASE_STEPS=true)"
	cd app && SMOKE_ENVIRONMENT="$${SMOKE_ENVIRONMENT:-$(SMOKE_BASE_URL)}" ../$(PY) manage.py smoke_test
else
	@$(DOCKER_ENV) $(COMPOSE_ENV) \
	export POSTGRES_IMAGE="$$(docker/images.sh postgres --no-build)"; \
	echo "==> Smoke test inside the compose stack (project $(COMPOSE_PROJECT); make up first)"; \
	$(COMPOSE) run --rm smoke
endif

# The browser of `make e2e`: a path you give wins; else Debian's chromium, installed if missing.
E2E_CHROMIUM ?=

.PHONY: chromium
chromium: ## Install Debian's Chromium for the browser tests (unless E2E_CHROMIUM names a browser)
ifeq ($(E2E_CHROMIUM),)
	@scripts/apt-install.sh --why "the browser tests (make e2e)" --needs chromium chromium
	@echo "==> Browser: $$(command -v chromium) ($$(chromium --version 2>/dev/null))"
else
	@echo "==> Browser: E2E_CHROMIUM=$(E2E_CHROMIUM) (yours; nothing installed)"
endif

.PHONY: e2e
e2e: $(VENV)/.installed chromium ## Browser tests (Chromium) against the running stack; stops and restarts web2
	@$(DOCKER_ENV) $(COMPOSE_ENV) \
	export POSTGRES_IMAGE="$$(docker/images.sh postgres --no-build)"; \
	echo "==> Browser tests against http://localhost:$(LOCAL_WEB_PORT)/ (screenshots in test-artifacts/)"; \
	status=0; \
	E2E_CHROMIUM="$(or $(E2E_CHROMIUM),$$(command -v chromium))" E2E_BASE_URL="http://localhost:$(LOCAL_WEB_PORT)" E2E_USERNAME="$(DEMO_USERNAME)" \
	E2E_PASSWORD="$(DEMO_PASSWORD)" E2E_STOP_REPLICA="$(COMPOSE) stop web2" \
	E2E_LOGS_COMMAND="$(COMPOSE) logs --no-color {service}" E2E_REPLICAS=web1,web2 \
	E2E_PROMETHEUS_URL="http://127.0.0.1:$(LOCAL_PROMETHEUS_PORT)" \
		$(PY) -m pytest tests/e2e -p no:cacheprovider -v || status=$$?; \
	echo "==> Starting web2 again"; \
	$(COMPOSE) start web2; \
	exit $$status
