# The project's single-node Kubernetes (docs/local-cluster.md), built from pinned Go modules by
# scripts/cluster/build.py and run by scripts/cluster/cluster.py. Included by the main Makefile.
# Targets: cluster-build, cluster-up, cluster-down, cluster-env, cluster-test.

# Built programs (reused when present) and the running cluster's state (removed by cluster-down).
CLUSTER_CACHE ?= /var/tmp/wsgateway-cluster-cache
CLUSTER_DIR ?= /var/tmp/wsgateway-cluster
CLUSTER = CLUSTER_CACHE="$(CLUSTER_CACHE)" CLUSTER_DIR="$(CLUSTER_DIR)" python3 scripts/cluster

.PHONY: cluster-build
cluster-build: ## Build the cluster's programs (helm, etcd, Kubernetes 1.34, containerd, CNI …) into CLUSTER_CACHE
	@$(CLUSTER)/build.py

.PHONY: cluster-up
cluster-up: cluster-build ## Start the single-node Kubernetes (state in CLUSTER_DIR); stopped again if a step fails
	@scripts/apt-install.sh --why "the local cluster (runc for containerd, ipset for kube-router)" \
		--needs runc --needs ipset --needs iptables runc ipset iptables
	@$(CLUSTER)/cluster.py up || { status=$$?; $(CLUSTER)/cluster.py down; exit $$status; }

.PHONY: cluster-down
cluster-down: ## Stop the cluster and remove its state (CLUSTER_DIR), pods, bridge and iptables chains
	@$(CLUSTER)/cluster.py down

.PHONY: cluster-env
cluster-env: ## Print the exports that point kubectl and helm at the cluster
	@$(CLUSTER)/cluster.py env

# The app image the cluster runs (built from this tree like `make image`, under its own tag).
CLUSTER_APP_IMAGE ?= wsgateway-app:cluster

.PHONY: cluster-test
cluster-test: APP_IMAGE = $(CLUSTER_APP_IMAGE)
cluster-test: $(VENV)/.installed image ## On the running cluster: helm install, helm test, CronJobs, NetworkPolicies, … (a PASS/FAIL line per step)
	@scripts/apt-install.sh --why "make cluster-test (the jq recipes of docs/operations.md)" --needs jq jq
	@$(DOCKER_ENV) CLUSTER_CACHE="$(CLUSTER_CACHE)" CLUSTER_DIR="$(CLUSTER_DIR)" \
		$(PY) scripts/cluster/cluster_test.py "$(APP_IMAGE)" "$$(docker/images.sh postgres)"
