# Benchmark of the real-time path (bench/, docs/performance.md). Included by the main Makefile.
# Targets: bench, bench-smoke. Both use their own PostgreSQL database (never the tests').

# Created if missing (on the project's own PostgreSQL when nothing answers, as for `make test`),
# emptied at the start of every run.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wsbench
BENCH_SMOKE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wsbench_smoke

.PHONY: bench
bench: $(VENV)/.installed ## Benchmark (under 20 min on 2 cores): prints the tables, writes docs/performance.md and .png
	@$(call ensure_database,BENCH_DATABASE_URL)
	@echo "==> Benchmark against BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) (all traffic on 127.0.0.0/8)"
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench

.PHONY: bench-smoke
bench-smoke: $(VENV)/.installed ## The benchmark at tiny sizes (seconds): fails if the harness is broken; writes nothing
	@$(call ensure_database,BENCH_SMOKE_DATABASE_URL)
	@echo "==> Benchmark smoke run against BENCH_SMOKE_DATABASE_URL=$(BENCH_SMOKE_DATABASE_URL)"
	BENCH_DATABASE_URL=$(BENCH_SMOKE_DATABASE_URL) $(PY) -m bench --smoke

.PHONY: bench-profile
bench-profile: $(VENV)/.installed ## py-spy samples one replica under $connect load (about 1 min): stacks, flame graph, top frames
	@$(call ensure_database,BENCH_DATABASE_URL)
	@echo "==> Profile of \$$connect against BENCH_DATABASE_URL=$(BENCH_DATABASE_URL)"
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench --profile
