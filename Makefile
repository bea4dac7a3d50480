# Everything a user or CI does. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
# Defaults: when nothing answers at 127.0.0.1:5432, `make` starts the project's own PostgreSQL
# there (scripts/local_postgres.py). A URL you set is used as it is, never replaced.
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
DEV_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wsgateway
# The project's own PostgreSQL keeps its data and log here.
LOCAL_POSTGRES_DIR ?= /var/tmp/wsgateway-postgres
export LOCAL_POSTGRES_DIR
DEMO_USERNAME ?= demo
DEMO_PASSWORD ?= demo-password-change-me
export DEMO_USERNAME DEMO_PASSWORD

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/dev.lock
	@echo "==> Creating $(VENV) and installing requirements/dev.lock"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet --require-hashes -r requirements/dev.lock
	@touch $@

# $(call ensure_database,VARIABLE): reach the server of the URL in VARIABLE (starting the
# project's own when VARIABLE holds make's default and nothing answers), create its database.
# --explicit when the user set VARIABLE: then an unreachable server is an error.
ensure_database = $(PY) scripts/local_postgres.py ensure "$($(1))" --variable $(1) \
	$(if $(filter-out file default undefined,$(origin $(1))),--explicit)

.PHONY: db
db: $(VENV)/.installed ## PostgreSQL for the tests: DATABASE_URL's server, or the project's own on 127.0.0.1:5432
	@$(call ensure_database,DATABASE_URL)

.PHONY: db-stop
db-stop: ## Stop the project's own PostgreSQL (never one of yours); its data stays in LOCAL_POSTGRES_DIR
	@$(PY) scripts/local_postgres.py stop

.PHONY: install
install: $(VENV)/.installed ## Create the virtualenv from the lock file

.PHONY: lock
lock: ## Re-pin requirements/*.lock from pyproject.toml (needs uv)
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements/runtime.lock
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements/dev.lock
	uv pip compile requirements/checkov.in --python-version 3.11 --generate-hashes -o requirements/checkov.lock

# The chart tests run the rendered specs in the app image, so `test` builds it (cached).
.PHONY: test
test: $(VENV)/.installed helm-tools prometheus-tools image db ## Run the test suite against PostgreSQL (DATABASE_URL, else the project's own), with coverage
	@echo "==> pytest against DATABASE_URL=$(DATABASE_URL)"
	DATABASE_URL=$(DATABASE_URL) $(PY) -m pytest -p no:cacheprovider --ignore=tests/e2e \
		--cov --cov-report=term --cov-fail-under=90 $(PYTEST_ARGS)

.PHONY: lint
lint: $(VENV)/.installed ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: format
format: $(VENV)/.installed ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: dev
dev: $(VENV)/.installed ## App on 127.0.0.1:8000, gateway emulator on :8001, no Docker (DEV_BIND=0.0.0.0 opens them)
	@$(call ensure_database,DEV_DATABASE_URL)
	DATABASE_URL=$(DEV_DATABASE_URL) PY=../$(PY) scripts/dev.sh

-include make/*.mk
