# Two commands: `make run` (set up + main job on the synthetic sample) and `make test`
# (`make test-unit` for the unit tests alone, under a minute).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: run test test-unit setup manifest ui docs quality-docs graph sample benchmark clean

run: setup manifest
	set -o pipefail; $(BIN)/python -m orchestration.main 2>&1 | grep --line-buffered -v -E $(LEAK_NOTES)

# DuckDB 2.0's Python binding prints nanobind "leaked instance" notes at interpreter exit
# (harmless, upstream); they are filtered so pytest's summary stays the last line.
LEAK_NOTES := '^(nanobind: leaked [0-9]+ (instances|types|functions)!| - leaked (instance|type|function) | - \.\.\. skipped remainder|nanobind: this is likely caused|See https://nanobind\.readthedocs\.io)'

# The whole suite on two processes (pytest-xdist; TEST_WORKERS=... to change): tests sharing a
# fixture run on one worker, each such fixture made once, slow groups first (tests/conftest.py).
TEST_WORKERS ?= 2
test: setup manifest
	set -o pipefail; $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup \
		--no-loadscope-reorder 2>&1 | grep --line-buffered -v -E $(LEAK_NOTES)

# The unit tests alone (markers applied in tests/conftest.py): the quick loop while working.
test-unit: setup manifest
	set -o pipefail; $(BIN)/python -m pytest -q -m unit -n 2 2>&1 | grep --line-buffered -v -E $(LEAK_NOTES)

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The dbt manifest that Dagster reads (also seeds the docs); rebuilt when models change. Parsed
# with the profile environment the run uses, so the run's dbt keeps this parse (partial parsing).
manifest: setup
	cd dbt_project && env $$(cd .. && $(BIN)/python -m orchestration.platform.dbt_project) \
		DBT_PROFILES_DIR=. ../$(BIN)/dbt parse --quiet

# The UI and the daemon (schedules, sensors) on http://127.0.0.1:3000 (PORT=... to change). The
# venv's bin on PATH as an activated venv would (the code location also finds its own dbt).
PORT ?= 3000
ui: setup manifest
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

# dbt docs (grain, indicator definitions, protocols as exposures) of the warehouse `make run` built,
# served on http://127.0.0.1:8080 (DOCS_PORT=... to change; Ctrl-C stops it). Served, not opened as
# a file: the page loads manifest.json and catalog.json over HTTP.
DOCS_PORT ?= 8080
docs: setup manifest
	cd dbt_project && DBT_PROFILES_DIR=. ../$(BIN)/dbt docs generate --quiet
	cd dbt_project && DBT_PROFILES_DIR=. ../$(BIN)/dbt docs serve --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

# The article-7 results page (offline, no CDN) that every quality check links to, served on
# http://127.0.0.1:8081/results.html (the checks' data_docs_url); Ctrl-C stops it.
quality-docs: setup
	$(BIN)/python -m http.server 8081 --bind 127.0.0.1 --directory data/quality/gx/uncommitted/data_docs

# The picture of the asset graph, from the Dagster definitions: docs/asset_graph.svg (groups and
# their dependencies) and docs/asset_graph.dot (every asset key and edge; `dot -Tpng` renders it).
graph: setup manifest
	$(BIN)/python -m tools.asset_graph --out docs

# Regenerate the committed synthetic sample (reproducible: same seed, same bytes).
sample: setup
	$(BIN)/python -m tools.synthetic --pupils 5000 --seed 20261122 --out data/sample

# Speed and memory at Flemish scale (1.2 million pupils; PUPILS=... to change): prints a table.
PUPILS ?= 1200000
benchmark: setup manifest
	$(BIN)/python -m tools.benchmark --pupils $(PUPILS)

clean:
	rm -rf data/inbox data/warehouse data/restricted data/outbox data/tmp dbt_project/target
