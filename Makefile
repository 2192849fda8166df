# Two commands: `make run` and `make test`. Each builds .venv on first use (Python 3.13, the
# Lambda runtime, when the machine has it) and reinstalls when a requirements file changes.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON_FOR_VENV ?= $(shell infra/find-python.sh)

.PHONY: run test lint typecheck unit venv clean openapi cfn-lint

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt layers/ledger/requirements.txt
	@test -x $(BIN)/python || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: venv
	$(BIN)/python -m infra.local_api

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml

openapi: venv
	PYTHONPATH=layers/ledger:layers/edge:functions/claim:functions/consume $(BIN)/python -m infra.openapi

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
