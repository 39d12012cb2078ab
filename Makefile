# ehandel: `make demo` sets everything up and publishes the demo report; `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
DEMO_SCALE ?= 0.02
DEMO_SEED ?= 2021
SCALE ?= 0.1
RUNS ?= 1
DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME := $(CURDIR)/.dagster
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy

# uv from PATH, else bootstrapped from PyPI into .tools/ (a fresh machine has no uv).
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help setup demo dev test lint format bench clean

help:
	@echo "make demo   set up, generate the demo data, run every asset, print where the report is"
	@echo "make test   run the test suite"
	@echo "make dev    the Dagster UI on http://localhost:3000"
	@echo "make lint   ruff + pyright;  make bench  benchmark against a bare DuckDB read (SCALE=$(SCALE) RUNS=$(RUNS))"
	@echo "make clean  remove the environment, the Dagster instance and everything generated under data/"

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups --compile-bytecode
	@touch $@

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@ln -sf $(CURDIR)/dagster.yaml $@

setup: $(BIN)/.synced $(DAGSTER_HOME)/dagster.yaml

# The demo data are generated once per scale and seed (deterministic: same seed, same bytes).
$(DATA_DIR)/raw/.generated-$(DEMO_SCALE)-$(DEMO_SEED): | setup
	$(BIN)/ehandel generate --data-dir $(DATA_DIR) --scale $(DEMO_SCALE) --seed $(DEMO_SEED)
	@touch $@

demo: setup $(DATA_DIR)/raw/.generated-$(DEMO_SCALE)-$(DEMO_SEED)
	$(BIN)/ehandel run --data-dir $(DATA_DIR)

dev: setup
	$(BIN)/dagster dev -m pipelines.definitions -h 127.0.0.1 -p 3000

test: setup
	$(BIN)/pytest -n 2 --dist loadgroup

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/ehandel bench --scale $(SCALE) --runs $(RUNS)

# Only the project's own data/ (the demo's), never $(DATA_DIR): that may hold real deliveries.
clean:
	rm -rf $(VENV) .tools .dagster .tmp_dagster_home_* .pytest_cache .ruff_cache .bench test-artifacts
	rm -rf data/marts/* data/reports data/cache data/.reports-* data/.publication data/.publications data/.ehandel.lock
	find data/raw -mindepth 1 ! -name .gitkeep -delete
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
