# Every target that runs Python bootstraps the virtualenv first (.venv, from pyproject.toml).
# With no DATABASE_URL / TEST_DATABASE_URL, demo, test and bench start an embedded PostgreSQL.

PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
# Two levels: RUNTIME = what production runs (make install, migrate, run-*); STAMP = the same
# plus the dev tools (pytest, ruff, mypy, pgserver, ...) for test, lint, demo and bench.
RUNTIME := $(VENV)/.installed-runtime
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help

$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

.PHONY: help
help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 18

.PHONY: install
install: $(RUNTIME)  ## production: create/refresh .venv with the runtime dependencies only

.PHONY: dev
dev: $(STAMP)  ## development: .venv with the runtime dependencies and the dev tools (tests, lint)

.PHONY: test
test: $(STAMP)  ## run the test suite on a real PostgreSQL (embedded unless TEST_DATABASE_URL)
	@bash tests/dev/system-deps.sh
	$(PY) -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: $(STAMP)  ## ruff + mypy --strict + import-linter (the layering contracts in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

.PHONY: migrate
migrate: $(RUNTIME)  ## apply the migrations to DATABASE_URL
	$(PY) -m outbox migrate

.PHONY: demo
demo: $(STAMP)  ## one simulated day: sample data -> producers -> gateway (jsonl transport)
	$(PY) -m tests.dev.demo

.PHONY: bench
bench: $(STAMP)  ## benchmarks with ratios against baselines measured in the same run
	$(PY) -m bench $(BENCH_ARGS)

.PHONY: chaos
chaos: $(STAMP)  ## faults injected into real gateway/producer processes, audited (CHAOS_ARGS=--short)
	$(PY) -m bench.chaos $(CHAOS_ARGS)

.PHONY: run-gateway
run-gateway: $(RUNTIME)  ## the WhatsApp gateway in the foreground (needs DATABASE_URL)
	$(PY) -m gateway

.PHONY: run-producers
run-producers: $(RUNTIME)  ## the report scheduler in the foreground (needs DATABASE_URL)
	$(PY) -m producers

.PHONY: run-web
run-web: $(RUNTIME)  ## the status page on 127.0.0.1:8080 (needs DATABASE_URL; OUTBOX_WEB_* settings)
	$(PY) -m outbox web

.PHONY: demo-web
demo-web: $(STAMP)  ## the status page on the demo's data (after make demo), http://127.0.0.1:8080/
	$(PY) -m tests.dev.demo_web

.PHONY: clean-db
clean-db:  ## delete the embedded PostgreSQL data (.pgdata)
	rm -rf .pgdata
