# Two commands for a fresh machine: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint format bench bench-throughput completions peers clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install  ## local AWS endpoint + demo server over SQS + one tool call
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
NPM_PEER_PACKAGES := @modelcontextprotocol/server-everything@2026.8.31 @modelcontextprotocol/inspector@2.12.0

peers: $(NPM_PEERS)/.installed  ## npm interop peers (server-everything, inspector) into .npm-peers/

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
