# LifeOS GraphQL API — everything starts from a bare Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: bench-analysis bench-data bench-graph bench-ingest bench-subs install run test test-unit test-integration test-acceptance lint format schema lock worker clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv>=0.9,<1"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the locked dependencies

run: install  ## serve on the embedded defaults (http://127.0.0.1:8000/graphql)
	$(BIN)/lifeos-gql serve

test: install  ## the whole suite: unit, integration, acceptance
	$(BIN)/pytest

test-unit: install
	$(BIN)/pytest tests/unit

test-integration: install
	$(BIN)/pytest tests/integration

test-acceptance: install
	$(BIN)/pytest tests/acceptance

lint: install  ## ruff + mypy --strict on lifeos_gql/
	$(BIN)/ruff check lifeos_gql tests bench
	$(BIN)/ruff format --check lifeos_gql
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix lifeos_gql tests bench
	$(BIN)/ruff format lifeos_gql tests bench

schema: install  ## re-export schema.graphql
	$(BIN)/lifeos-gql export-schema -o schema.graphql

lock: install  ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile --quiet --python-version 3.11 --extra dev -o requirements.lock pyproject.toml

bench-ingest: install  ## captureBatch over HTTP vs raw COPY on the same database
	$(BIN)/python bench/ingest.py

bench-analysis: install  ## analysis captures/s: local analyser, and OpenAI against a 500 ms fake
	$(BIN)/python bench/analysis.py

bench-data: install  ## one user: 100k captures, 10k concepts, 1M edges into bench/data/ (kept; --force redoes)
	$(BIN)/python bench/graph_data.py

bench-graph: install bench-data  ## neighbors/path/search p50/p95 (server-side and HTTP); nested query, loaders vs naive
	$(BIN)/python -m bench.graph

bench-subs: install  ## 10,000 idle subscriptions (server RSS); fan-out of one insight event to 1,000 (p50/p99)
	$(BIN)/python bench/subscriptions.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
