# The two commands: `make run` serves the registry, `make test` runs the whole suite.
# Both create .venv at the repo root and install what they need on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint setup bench bench-latency bench-dataset bench-uploads bench-scorecards clean adversarial screenshots

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml clients/python/pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e 'clients/python[cli]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/registry serve --host 127.0.0.1 --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

# Pictures of every console page for docs/console.md, taken by its browser test.
screenshots: setup
	REGISTRY_CONSOLE_SCREENSHOTS=docs/console $(BIN)/python -m pytest tests/console/test_console_browser.py -q -k 'another_host or chinese'

# The attacks and faults of tests/adversarial, with the figures docs/security.md reports.
adversarial: setup
	$(BIN)/python -m pytest tests/adversarial -q

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

# Exposure throughput: the service against pgbench and an asyncpg client (docs/performance.md).
bench: setup
	$(BIN)/python -m bench.exposure

# Exposure latency at fixed offered load (open loop), plotted into docs/performance/.
bench-latency: $(VENV)/.bench-installed
	$(BIN)/python -m bench.latency

# The data set generator alone: its rate and peak RSS.
bench-dataset: setup
	$(BIN)/python -m bench.dataset

bench-uploads: setup
	$(BIN)/python -m bench.uploads

# Scorecard and league table at 1M records, 50 members, 500 branches (docs/performance.md).
bench-scorecards: setup
	$(BIN)/python -m bench.scorecards

clean:
	rm -rf $(VENV) .registry .pytest_cache
