# fieldsales — `make run` serves the API with demo data, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
export FIELDSALES_ENV ?= development

.PHONY: run test test-citus unit stop db venv bench lint clean-venv backup restore soak audit

venv: $(STAMP)
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "venv: installing fieldsales and its dependencies into $(VENV)"
	@$(BIN)/pip install -q --upgrade pip >/dev/null
	@$(BIN)/pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

# Start (or reuse) the local PostGIS cluster and migrate the app database.
db: venv
	@scripts/dev.sh db

run: venv
	@scripts/dev.sh run

stop:
	@scripts/localdb.sh stop

# T=tests/customers/test_customers.py::test_create  runs one test (any pytest args work).
test: venv
	@scripts/test.sh $(T)

# The suite on Citus (coordinator + 2 workers on loopback, Citus built once into var/citus):
# scripts/test_citus.sh; T= adds pytest args.
test-citus: venv
	@scripts/test_citus.sh $(T)

# The pure tier (tests/unit): no database, no cluster, no app; seconds. T= adds pytest args.
unit: venv
	@$(BIN)/python -m pytest tests/unit $(T)

# Every benchmark on psycopg2, then the hot paths on psycopg 3 (scripts/bench.sh);
# BENCH=customers_near runs one, DRIVER=psycopg2|psycopg|both picks the driver(s).
bench: venv
	@DRIVER=$(DRIVER) scripts/bench.sh $(BENCH)

lint: venv
	@$(BIN)/ruff check .

clean-venv:
	rm -rf $(VENV)

# Backup: database (pg_dump) + photo store (tar) + checksums, into var/backups/<time>/.
backup: venv
	@.venv/bin/fieldsales backup create

# Restore BACKUP=var/backups/<time> into the configured, empty database and photo folder.
restore: venv
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/backups/<time>"; exit 2; }
	@.venv/bin/fieldsales backup restore "$(BACKUP)"

# Two minutes of mixed traffic from 32 clients (not in CI): zero 5xx, p50/p99, worker RSS.
soak: venv
	@scripts/soak.sh

# Dependency audit against the PyPI advisory data (needs PyPI's JSON API to be reachable).
audit: venv
	@.venv/bin/pip-audit --progress-spinner off --skip-editable
