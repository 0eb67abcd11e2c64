# Two commands for a fresh machine: `make demo` and `make test`. Both install what they need:
# `make demo` asyncmcp and its runtime dependencies only, `make test` the dev tools as well.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.installed-runtime
PIP    := $(BIN)/python -m pip install --progress-bar on --disable-pip-version-check

.PHONY: install install-runtime demo test lint format bench bench-throughput completions peers clean

$(VENV)/bin/python:
	@echo "==> creating the virtualenv $(VENV)"
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "==> installing asyncmcp and its runtime dependencies into $(VENV) (no dev tools; a minute or two the first time)"
	$(PIP) -e .
	touch $(RUNTIME_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "==> installing asyncmcp with the dev tools (pytest, ruff, ...) into $(VENV) (a few minutes the first time)"
	$(PIP) -e ".[dev]"
	touch $(STAMP) $(RUNTIME_STAMP)

install: $(STAMP)

install-runtime: $(RUNTIME_STAMP)

demo: install-runtime  ## local AWS endpoint + demo server over SQS + one tool call
	$(BIN)/asyncmcp demo

test: lint peers  ## lint, then the whole suite
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install  ## latency and API requests per call over SQS, against the raw boto3 floor
	$(BIN)/python benchmarks/sqs_latency.py

bench-throughput: install  ## load shapes beside the reference library (PyPI asyncmcp 0.2.1) on one moto endpoint
	$(BIN)/python benchmarks/throughput.py

completions: install  ## regenerate completions/ (bash, zsh, fish) and completions/cli-surface.txt from the CLI
	$(BIN)/python completions/generate.py

# Third-party MCP peers for the interop tests, pinned, in a project-local npm prefix.
# Without node/npm (or a reachable registry) their tests skip and say why.
NPM_PEERS := .npm-peers
NPM_PEER_PACKAGES := @modelcontextprotocol/server-everything@2026.8.31 @modelcontextprotocol/inspector@2.12.0 \
	@modelcontextprotocol/ext-tasks@0.2.2 @modelcontextprotocol/client@2.4.0

peers: $(NPM_PEERS)/.installed  ## npm interop peers (server-everything, inspector, ext-tasks) into .npm-peers/

$(NPM_PEERS)/.installed: Makefile
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "note: npm not found: the interop tests that need npm peers will be skipped"; \
	elif npm install --prefix $(NPM_PEERS) --no-audit --no-fund --loglevel=error $(NPM_PEER_PACKAGES); then \
		touch $@; \
	else \
		echo "note: installing the npm peers failed: the interop tests that need them will be skipped"; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
