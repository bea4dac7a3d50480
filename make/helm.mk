# Helm chart (helm/), environments and IAM documents (k8s/), docs/deployment.md.
# Included by the main Makefile. Targets: helm-tools, helm-docs, helm-test, helm-template,
# deploy, smoke-test-cluster.

HELM ?= helm
RELEASE ?= wsgateway
ENV ?=
NAMESPACE ?= wsgateway-$(ENV)
# Image tag to deploy; empty keeps the chart's appVersion (or the environment's image.tag).
IMAGE_TAG ?=
HELM_TIMEOUT ?= 10m
# Extra arguments for helm, e.g. HELM_ARGS="--set web.replicas=3".
HELM_ARGS ?=
CHECKOV_VENV ?= $(VENV)/checkov

ENV_VALUES = k8s/environments/$(ENV)/values.yaml
# Fails unless ENV names a folder of k8s/environments.
CHECK_ENV = if [ -z "$(ENV)" ]; then \
		echo "ENV is required: make $@ ENV=dev|staging|prod" >&2; exit 2; fi; \
	if [ ! -f "$(ENV_VALUES)" ]; then \
		echo "no $(ENV_VALUES): environments are $$(ls k8s/environments | tr '\n' ' ')" >&2; exit 2; fi;
# Fails with instructions when the helm CLI is missing.
CHECK_HELM = if ! command -v $(HELM) >/dev/null 2>&1; then \
		echo "helm (HELM=$(HELM)) is not installed: install Helm 3.14+ or 4 (https://helm.sh/docs/intro/install/)" >&2; \
		echo "the command above was not run" >&2; exit 127; fi;
SHOW_CONTEXT = if command -v kubectl >/dev/null 2>&1; then \
		echo "    kube context: $$(kubectl config current-context 2>/dev/null || echo none)"; fi;

.PHONY: helm-tools
helm-tools: $(CHECKOV_VENV)/.installed ## Install checkov into its own venv (.venv/checkov)

# checkov's own pins conflict with requirements/dev.lock, so it gets a virtualenv of its own.
$(CHECKOV_VENV)/.installed: requirements/checkov.lock
	@echo "==> Creating $(CHECKOV_VENV) from requirements/checkov.lock"
	@test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements/checkov.lock
	@echo "==> checkov $$($(CHECKOV_VENV)/bin/checkov --version)"
	@touch $@

.PHONY: helm-docs
helm-docs: ## Regenerate helm/README.md from helm/values.yaml
	$(PY) helm/generate_readme.py

.PHONY: helm-test
helm-test: helm-tools ## Chart tests only: render, lint, validate, checkov, image agreement
	$(PY) -m pytest -p no:cacheprovider tests/helm $(PYTEST_ARGS)

.PHONY: helm-template
helm-template: ## Print what `make deploy ENV=…` would apply (helm template)
	@$(CHECK_ENV) \
	cmd="$(HELM) template $(RELEASE) helm --namespace $(NAMESPACE) -f $(ENV_VALUES)$(if $(IMAGE_TAG), --set image.tag=$(IMAGE_TAG)) $(HELM_ARGS)"; \
	echo "==> $$cmd" >&2; $(CHECK_HELM) $$cmd

.PHONY: deploy
deploy: ## helm upgrade --install the chart into ENV=dev|staging|prod (IMAGE_TAG=…)
	@$(CHECK_ENV) \
	cmd="$(HELM) upgrade --install $(RELEASE) helm --namespace $(NAMESPACE) -f $(ENV_VALUES)$(if $(IMAGE_TAG), --set image.tag=$(IMAGE_TAG)) --wait --timeout $(HELM_TIMEOUT) $(HELM_ARGS)"; \
	echo "==> Deploying release $(RELEASE) to namespace $(NAMESPACE) with $(ENV_VALUES)"; \
	$(SHOW_CONTEXT) \
	echo "==> $$cmd"; \
	$(CHECK_HELM) $$cmd

.PHONY: smoke-test-cluster
smoke-test-cluster: ## helm test: the smoke test in the cluster of ENV=dev|staging|prod
	@$(CHECK_ENV) \
	cmd="$(HELM) test $(RELEASE) --namespace $(NAMESPACE) --logs --timeout 5m $(HELM_ARGS)"; \
	echo "==> Smoke test of release $(RELEASE) in namespace $(NAMESPACE)"; \
	$(SHOW_CONTEXT) \
	echo "==> $$cmd"; \
	$(CHECK_HELM) $$cmd
