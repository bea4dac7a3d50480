# Blue/green rollouts (docs/blue-green.md): the chart's blueGreen values, driven by
# scripts/bluegreen.py with the real helm and kubectl, and the drill that proves a switch loses
# nothing. Included by the main Makefile; uses make/helm.mk's HELM, RELEASE, ENV, NAMESPACE,
# ENV_VALUES, HELM_TIMEOUT, HELM_ARGS and CHECK_ENV, and make/docker.mk's DOCKER_ENV.
# Targets: bluegreen-status, bluegreen-deploy, bluegreen-switch, bluegreen-rollback,
# bluegreen-scale-down, bluegreen-drill.

KUBECTL ?= kubectl
# The image tag bluegreen-deploy runs on the idle color.
TAG ?=
# Seconds the old color keeps running after a switch (a rollback within them is instant).
BLUEGREEN_SCALE_DOWN_DELAY ?= 300

BLUEGREEN = RELEASE="$(RELEASE)" NAMESPACE="$(NAMESPACE)" ENV_VALUES="$(ENV_VALUES)" \
	HELM="$(HELM)" KUBECTL="$(KUBECTL)" HELM_TIMEOUT="$(HELM_TIMEOUT)" HELM_ARGS="$(HELM_ARGS)" \
	BLUEGREEN_SCALE_DOWN_DELAY="$(BLUEGREEN_SCALE_DOWN_DELAY)" python3 scripts/bluegreen.py

.PHONY: bluegreen-status
bluegreen-status: ## Blue/green in ENV=…: the live color, each color's image, since when
	@$(CHECK_ENV) $(BLUEGREEN) status

.PHONY: bluegreen-deploy
bluegreen-deploy: ## Blue/green: run TAG=… on the idle color of ENV=…, wait, smoke-test the preview
	@$(CHECK_ENV) $(BLUEGREEN) deploy "$(TAG)"

.PHONY: bluegreen-switch
bluegreen-switch: ## Blue/green: send ENV=…'s traffic to the idle color, smoke-test it
	@$(CHECK_ENV) $(BLUEGREEN) switch

.PHONY: bluegreen-rollback
bluegreen-rollback: ## Blue/green: send ENV=…'s traffic back to the other color (scaled up first)
	@$(CHECK_ENV) $(BLUEGREEN) rollback

.PHONY: bluegreen-scale-down
bluegreen-scale-down: ## Blue/green: scale ENV=…'s idle color to 0, BLUEGREEN_SCALE_DOWN_DELAY s after the switch
	@$(CHECK_ENV) $(BLUEGREEN) scale-down

.PHONY: bluegreen-drill
bluegreen-drill: $(VENV)/.installed image ## The blue/green drill: 50 clients, switch and rollback, nothing lost
	@$(DOCKER_ENV) echo "==> Blue/green drill (drill/, docs/blue-green.md) with $(APP_IMAGE)"; \
	APP_IMAGE="$(APP_IMAGE)" $(PY) -m drill.bluegreen
