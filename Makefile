# Quick start: `make run` then `make test`. Everything installs into .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TIER ?= M
SEED ?= 42
# Test files run in this many pytest-xdist workers (a file's tests stay together: module fixtures build once).
TEST_WORKERS ?= 2

# Nothing may wait on the network: telemetry off for dbt and Dagster.
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_HOME ?= $(abspath .dagster_home)

.PHONY: help venv dagster-home browser run generate test lint ui bench clean-data lock

help:
	@echo "make run      create .venv, install, generate tier $(TIER) sample data if absent, run the whole pipeline"
	@echo "make test     run the test suite (installs first if needed)"
	@echo "make ui       start the Dagster UI on http://127.0.0.1:3000"
	@echo "make bench    benchmark, tier S unless TIER=XS|M|L (BENCH_ARGS=...): see BENCHMARKS.md"
	@echo "make lint     ruff"

$(STAMP): pyproject.toml constraints.txt
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# The Dagster instance directory: created, with dagster.yaml (copied when missing, refreshed while it carries the managed marker), by the settings
# module (the one place that does it; `c360` does the same when DAGSTER_HOME is unset).
dagster-home: $(STAMP)
	@$(BIN)/python -c "from pipelines.settings import Settings, prepare_dagster_home; prepare_dagster_home(Settings.from_env())"

run: $(STAMP) dagster-home
	$(BIN)/c360 generate --tier $(TIER) --seed $(SEED) --if-absent
	$(BIN)/c360 run

generate: $(STAMP)
	$(BIN)/c360 generate --tier $(TIER) --seed $(SEED)

# The UI test drives Debian's Chromium (Playwright never downloads a browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the UI test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; }; }

test: $(STAMP) dagster-home browser
	$(BIN)/ruff check pipelines tests notebooks
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check pipelines tests notebooks
	$(BIN)/ruff format --check pipelines tests notebooks

ui: $(STAMP) dagster-home
	$(BIN)/dagster dev -m pipelines.definitions -h 127.0.0.1 -p 3000

# GoAccess is the web-log peer the bench compares with (Debian package); BENCH_ARGS e.g. "--repeat 5".
BENCH_ARGS ?=
# The bench's tier is S (a few minutes) unless TIER is given: TIER's M default is make run's.
BENCH_TIER = $(if $(filter command line environment,$(origin TIER)),$(TIER),S)
bench: $(STAMP) dagster-home
	@command -v goaccess >/dev/null 2>&1 || { \
	  echo "installing Debian's goaccess for the web-log benchmark"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get install -y -q goaccess >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q goaccess >/dev/null; } || \
	  echo "could not install goaccess: the bench runs without the GoAccess comparison"; }
	$(BIN)/c360 bench --tier $(BENCH_TIER) $(BENCH_ARGS)

clean-data:
	rm -rf data/inbox data/warehouse data/exports data/tmp

# Refresh the exact pins after changing dependency ranges in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^customer360' > constraints.txt
