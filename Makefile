# `make run`: the whole system on the embedded default (SQLite, embedded broker, mail catcher).
# `make test`: lint and the whole test suite. Both set themselves up from nothing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench services clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/newsletter dev

services:
	.ci/services

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Tests run in parallel processes (one per core, at most 4): most of the suite's time is
# spent waiting on real workers, servers and browsers. Each process has its own
# PostgreSQL database and Redis database (tests/conftest.py).
test: $(VENV)/.dev services lint
	$(BIN)/pytest -n auto --maxprocesses=4

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.dev services
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache .ruff_cache
