# The troubleshooting doctor (docs/troubleshooting.md): `manage.py gateway_doctor`, read-only,
# in a cluster (two Jobs made by scripts/doctor_job.py from the chart's provisioning Job) and in
# the local compose stack. Included by the main Makefile; uses make/helm.mk's HELM, RELEASE, ENV,
# NAMESPACE, ENV_VALUES, IMAGE_TAG, HELM_ARGS and CHECK_ENV, make/bluegreen.mk's KUBECTL, and
# make/docker.mk's DOCKER_ENV, COMPOSE_ENV, COMPOSE and COMPOSE_PROJECT.
# Targets: doctor, doctor-render, doctor-local.

# The ApiGateway record to check; empty: provisioning.apiGatewayPk of ENV, else the only one.
PK ?=
# More arguments for gateway_doctor, e.g. DOCTOR_ARGS=--json.
DOCTOR_ARGS ?=
# Seconds each doctor Job may take before make gives up waiting.
DOCTOR_TIMEOUT ?= 300

DOCTOR_JOB = RELEASE="$(RELEASE)" NAMESPACE="$(NAMESPACE)" ENV_VALUES="$(ENV_VALUES)" \
	HELM="$(HELM)" KUBECTL="$(KUBECTL)" IMAGE_TAG="$(IMAGE_TAG)" HELM_ARGS="$(HELM_ARGS)" \
	PK="$(PK)" DOCTOR_ARGS="$(DOCTOR_ARGS)" DOCTOR_TIMEOUT="$(DOCTOR_TIMEOUT)" \
	$(PY) -m scripts.doctor_job

.PHONY: doctor
doctor: $(VENV)/.installed ## Troubleshooting checks in ENV=…'s cluster: Jobs under the deploy and runtime roles, read-only
	@$(CHECK_ENV) echo "==> gateway_doctor for release $(RELEASE) in namespace $(NAMESPACE) (read-only)"; \
	$(SHOW_CONTEXT) $(DOCTOR_JOB) run

.PHONY: doctor-render
doctor-render: $(VENV)/.installed ## Print the two Jobs `make doctor ENV=…` would create; nothing is applied
	@$(CHECK_ENV) $(DOCTOR_JOB) render

.PHONY: doctor-local
doctor-local: ## The doctor's checks against the running compose stack and its emulator (make up first)
	@$(DOCKER_ENV) $(COMPOSE_ENV) \
	export POSTGRES_IMAGE="$$(docker/images.sh postgres --no-build)"; \
	echo "==> gateway_doctor in web1 of the compose stack (project $(COMPOSE_PROJECT); read-only)"; \
	$(COMPOSE) exec -T web1 python manage.py gateway_doctor $(DOCTOR_ARGS)
