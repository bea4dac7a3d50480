# Helm chart (helm/), environments and IAM documents (k8s/), docs/deployment.md.
# Included by the main Makefile. Targets: helm-tools, prometheus-tools, helm-docs, helm-test, helm-template,
# diff, deploy, smoke-test-cluster, chart-package, chart-push.

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
KUBECTL ?= kubectl
# Where `make chart-package` writes the chart's .tgz, and the OCI registry `make chart-push`
# pushes it to (oci://<account>.dkr.ecr.<region>.amazonaws.com/charts, oci://ghcr.io/<owner>/charts).
CHART_DIST ?= dist
REGISTRY ?=

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
helm-test: helm-tools prometheus-tools ## Chart tests only: render, lint, validate, checkov, image agreement
	$(PY) -m pytest -p no:cacheprovider tests/helm $(PYTEST_ARGS)

.PHONY: helm-template
helm-template: ## Print what `make deploy ENV=…` would apply (helm template)
	@$(CHECK_ENV) \
	cmd="$(HELM) template $(RELEASE) helm --namespace $(NAMESPACE) -f $(ENV_VALUES)$(if $(IMAGE_TAG), --set image.tag=$(IMAGE_TAG)) $(HELM_ARGS)"; \
	echo "==> $$cmd" >&2; $(CHECK_HELM) $$cmd

# The manifests `make deploy` would apply, without the hooks and the test pod (they are made
# anew on every upgrade): rendered by helm, compared with the live objects by kubectl diff. With
# the helm-diff plugin installed, `helm diff upgrade` shows the same against the release.
.PHONY: diff
diff: ## Show what `make deploy ENV=…` would change in the live release (helm diff, else helm template | kubectl diff)
	@$(CHECK_ENV) \
	values="--namespace $(NAMESPACE) -f $(ENV_VALUES)$(if $(IMAGE_TAG), --set image.tag=$(IMAGE_TAG)) $(HELM_ARGS)"; \
	$(CHECK_HELM) $(SHOW_CONTEXT) \
	if $(HELM) diff version >/dev/null 2>&1; then \
		cmd="$(HELM) diff upgrade $(RELEASE) helm $$values"; \
		echo "==> $$cmd"; $$cmd; \
	else \
		echo "==> $(HELM) template $(RELEASE) helm $$values --no-hooks --skip-tests | $(KUBECTL) diff --namespace $(NAMESPACE) -f -"; \
		echo "    (no helm-diff plugin: the live objects compared with kubectl diff)"; \
		rendered="$$(mktemp)"; trap 'rm -f "$$rendered"' EXIT; \
		$(HELM) template $(RELEASE) helm $$values --no-hooks --skip-tests > "$$rendered" || exit $$?; \
		status=0; $(KUBECTL) diff --namespace $(NAMESPACE) -f "$$rendered" || status=$$?; \
		case $$status in \
			0) echo "==> no difference: make deploy ENV=$(ENV) would change nothing";; \
			1) echo "==> the differences above are what make deploy ENV=$(ENV) would apply";; \
			*) echo "==> kubectl diff failed (exit $$status)" >&2; exit $$status;; \
		esac; \
	fi

.PHONY: chart-package
chart-package: $(VENV)/.installed ## Package the chart into $(CHART_DIST)/wsgateway-<version>.tgz after linting its Artifact Hub metadata
	@$(PY) scripts/chart.py package --destination $(CHART_DIST)

.PHONY: chart-push
chart-push: chart-package ## helm push the packaged chart to REGISTRY=oci://… (log in first: docs/deployment.md, "Publishing")
	@if [ -z "$(REGISTRY)" ]; then \
		echo "REGISTRY is required: make chart-push REGISTRY=oci://<account>.dkr.ecr.<region>.amazonaws.com/charts" >&2; exit 2; fi; \
	archive="$(CHART_DIST)/wsgateway-$$($(PY) scripts/chart.py version).tgz"; \
	cmd="$(HELM) push $$archive $(REGISTRY)"; \
	echo "==> $$cmd"; $(CHECK_HELM) $$cmd

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

# promtool checks and unit-tests the chart's alert rules (tests/helm/test_alert_rules.py).
.PHONY: prometheus-tools
prometheus-tools: ## Install Debian's prometheus (promtool) for the alert rules' tests
	@scripts/apt-install.sh --why "the alert rules' tests (promtool)" --needs promtool prometheus
	@echo "==> promtool: $$(command -v promtool) ($$(promtool --version 2>&1 | head -n 1))"

.PHONY: dashboard
dashboard: $(VENV)/.installed ## Regenerate the Grafana dashboard (helm/dashboards/wsgateway.json) from helm/generate_dashboard.py
	$(PY) helm/generate_dashboard.py
