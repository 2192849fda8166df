# Two commands: `make run` and `make test`. Each builds .venv on first use (Python 3.13, the
# Lambda runtime, when the machine has it) and reinstalls when a requirements file changes.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON_FOR_VENV ?= $(shell infra/find-python.sh)
SAM_VENV ?= .venv-sam
SAM := env SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
CHECKOV_VENV ?= .venv-checkov
# Put before each check's commands: make test runs the checks at a lower priority beside the suite.
NICE ?=

.PHONY: run test lint typecheck unit venv browser clean openapi sam-check scan audit migrate-grants bench mutation mutation-gate

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt layers/ledger/requirements.txt layers/edge/requirements.txt
	@test -x $(BIN)/python || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The console's browser tests drive Debian's Chromium: Playwright's own browser download cannot
# reach its host from these machines. Installed once, as root (as on the developers' machines and CI).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the console's browser tests"; \
	  log=$$(mktemp); { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium fonts-liberation; } >$$log 2>&1 || { cat $$log; rm -f $$log; exit 1; }; \
	  rm -f $$log; }

run: venv
	$(BIN)/python -m infra.local.api

lint: venv
	$(NICE) $(BIN)/ruff check .
	$(NICE) $(BIN)/ruff format --check .
	$(NICE) $(BIN)/cfn-lint template.yaml

# Check R11 over a whole table: the local stack's (ENDPOINT=http://127.0.0.1:PORT of its DynamoDB,
# printed by make run) or a deployed one (TABLE=name, AWS credentials from the environment).
audit: venv
	$(BIN)/python -m infra.tools.audit $(if $(ENDPOINT),--endpoint-url $(ENDPOINT)) $(if $(TABLE),--table $(TABLE))

# Move every grant claimed before grants had keys of their own to its own key (once, after the
# deploy that brings them; safe to repeat and while serving): the same ENDPOINT or TABLE as audit.
migrate-grants: venv
	$(BIN)/python -m infra.tools.migrate_grants $(if $(ENDPOINT),--endpoint-url $(ENDPOINT)) $(if $(TABLE),--table $(TABLE))

# Not part of make test: requests and items per operation, init times, expiry scaling, throughput.
# ONLY="init throughput" runs those parts alone and keeps the other figures of bench/results.json.
bench: venv
	PYTHONPATH=layers/ledger:layers/edge:functions/claim:functions/consume:functions/expiry:functions/events \
	  $(BIN)/python -m bench.run $(if $(ONLY),--only $(ONLY))

openapi: venv
	PYTHONPATH=layers/ledger:layers/edge:functions/claim:functions/consume $(BIN)/python -m infra.tools.openapi

typecheck: venv
	$(NICE) $(BIN)/mypy

# The suite in PYTEST_WORKERS processes (pytest-xdist), each given a whole test file at a time
# (--dist loadfile), so that a module's local stack starts once; tests/conftest.py hands out the
# longest files first. A local stack's test waits on HTTP and its containers about half of its
# time: two workers fill both cores where one used a core and a half at best.
PYTEST_WORKERS ?= 2
unit: venv browser
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest --numprocesses $(PYTEST_WORKERS) --dist loadfile

# Mutation testing of the ledger's pure domain (layers/ledger/trial_ledger/domain) with mutmut and the
# fast tests of tests/domain (infra/tools/mutation.py, docs/reliability.md). Fails when a mutant survives
# that mutation/equivalent.toml does not keep, with a reason, as equivalent. `mutation` also lists the
# kept ones; `mutation-gate` is the same run, part of make test.
mutation: venv
	$(BIN)/python -m infra.tools.mutation --verbose

mutation-gate: venv
	$(NICE) $(BIN)/python -m infra.tools.mutation

$(SAM_VENV)/.installed: requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || $(PYTHON_FOR_VENV) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	@touch $@

# sam validate --lint, sam build (needs python3.13 on PATH: skipped with a message where the
# machine has none), then check that every module carries its bytecode and import every built
# function from the artifact alone. SAM's cache (--cached) is keyed on each CodeUri's files only:
# a change to infra/build/Makefile, which builds them all, drops it.
sam-check: venv $(SAM_VENV)/.installed
	$(NICE) $(SAM) validate --lint --template template.yaml --region us-east-1
	@runtime=$$(infra/find-python.sh --runtime 2>/dev/null) || { \
	  echo "sam-check: SKIPPED sam build: no python3.13 on this machine (pyenv install 3.13 to run it)"; exit 0; }; \
	  mkdir -p .aws-sam; \
	  if [ infra/build/Makefile -nt .aws-sam/build.toml ]; then rm -rf .aws-sam/cache .aws-sam/build.toml; fi; \
	  PATH="$$(dirname $$runtime):$$PATH" $(NICE) $(SAM) build --template template.yaml --build-dir .aws-sam/build \
	    --cache-dir .aws-sam/cache --cached >.aws-sam/build.log 2>&1 || { cat .aws-sam/build.log; exit 1; }; \
	  $(NICE) $(BIN)/python -m infra.tools.check_build .aws-sam/build $$runtime

# Checkov, in its own virtual environment (it pins libraries of its own), offline, over
# template.yaml with the skips and their reasons in .checkov.yaml.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON_FOR_VENV) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

scan: $(CHECKOV_VENV)/.installed
	BC_SKIP_MAPPING=TRUE $(NICE) $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml

# First the three virtual environments, side by side (an install is mostly one core of pip), and
# the browser. Then the suite (unit), which takes most of the time, with the checks beside it on
# the machine's second core, each one's output kept together (a failure of any fails the target).
# The checks run at a lower priority (nice): the suite's local stack (a server, its containers)
# gets a second core whenever it can use one, and the checks take the rest.
test:
	$(MAKE) --no-print-directory -j3 --output-sync=target venv $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed browser
	$(MAKE) --no-print-directory -j2 --output-sync=target unit lint scan typecheck mutation-gate sam-check \
	  NICE="nice -n 10"

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .mypy_cache .pytest_cache .ruff_cache .hypothesis .mutmut
