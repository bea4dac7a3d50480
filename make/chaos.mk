# The chaos drill (docs/reliability.md, drill/chaos): faults injected one at a time into a
# compose stack of its own while real WebSocket clients ping and broadcast. Included by the
# main Makefile; uses make/docker.mk's DOCKER_ENV and APP_IMAGE.
# Targets: chaos-drill (the full run, by hand: about 20 minutes), chaos-drill-short (CI).

.PHONY: chaos-drill
chaos-drill: $(VENV)/.installed image ## The chaos drill: 200 clients, 5 faults, figures per fault (about 20 min)
	@$(DOCKER_ENV) echo "==> Chaos drill (drill/chaos, docs/reliability.md) with $(APP_IMAGE)"; \
	APP_IMAGE="$(APP_IMAGE)" $(PY) -m drill.chaos

.PHONY: chaos-drill-short
chaos-drill-short: $(VENV)/.installed image ## The chaos drill at CI size: 50 clients, seconds per fault
	@$(DOCKER_ENV) echo "==> Chaos drill, short run (drill/chaos) with $(APP_IMAGE)"; \
	CHAOS_SHORT=1 APP_IMAGE="$(APP_IMAGE)" $(PY) -m drill.chaos
