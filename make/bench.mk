# Benchmark of the real-time path (bench/, docs/performance.md). Included by the main Makefile.
# Targets: bench, bench-smoke, loadtest, loadtest-smoke. The benchmark uses its own PostgreSQL
# database (never the tests'); the load test talks to a running site and gateway only.

# Created if missing (on the project's own PostgreSQL when nothing answers, as for `make test`),
# emptied at the start of every run.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wsbench
BENCH_SMOKE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wsbench_smoke

.PHONY: bench
bench: $(VENV)/.installed ## Benchmark (about 13 min on 2 cores): prints the tables, writes docs/performance.md and .png
	@$(call ensure_database,BENCH_DATABASE_URL)
	@echo "==> Benchmark against BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) (all traffic on 127.0.0.0/8)"
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench

.PHONY: bench-smoke
bench-smoke: $(VENV)/.installed ## The benchmark at tiny sizes (seconds): fails if the harness is broken; writes nothing
	@$(call ensure_database,BENCH_SMOKE_DATABASE_URL)
	@echo "==> Benchmark smoke run against BENCH_SMOKE_DATABASE_URL=$(BENCH_SMOKE_DATABASE_URL)"
	BENCH_DATABASE_URL=$(BENCH_SMOKE_DATABASE_URL) $(PY) -m bench --smoke
	@$(MAKE) --no-print-directory loadtest-smoke

# The load test (loadtest/, docs/load-testing.md) reads every LOADTEST_* variable itself, from
# make's command line or the environment; extra locust options in LOADTEST_ARGS.
.PHONY: loadtest
loadtest: $(VENV)/.installed ## locust against your stage: LOADTEST_SITE_URL, LOADTEST_WS_URL, LOADTEST_USERS... (docs/load-testing.md)
	@$(PY) -m loadtest $(LOADTEST_ARGS)

# Where loadtest-smoke writes locust's report (replaced by every run).
LOADTEST_SMOKE_REPORT_DIR ?= loadtest-reports/smoke

.PHONY: loadtest-smoke
loadtest-smoke: $(VENV)/.installed ## The load test for 10 s with 3 users against the local stack (make up first)
	@echo "==> Load test smoke run against the local stack: http://localhost:$(LOCAL_WEB_PORT) and ws://localhost:$(LOCAL_WS_PORT)/local as $(DEMO_USERNAME)"
	@LOADTEST_SITE_URL=http://localhost:$(LOCAL_WEB_PORT) LOADTEST_WS_URL=ws://localhost:$(LOCAL_WS_PORT)/local \
	LOADTEST_USERNAME="$$DEMO_USERNAME" LOADTEST_PASSWORD="$$DEMO_PASSWORD" LOADTEST_CREDENTIALS= \
	LOADTEST_USERS=3 LOADTEST_SPAWN_RATE=3 LOADTEST_DURATION=10s LOADTEST_PING_INTERVAL=0.5 \
	LOADTEST_REPORT_DIR=$(LOADTEST_SMOKE_REPORT_DIR) $(PY) -m loadtest --only-summary
