# Two commands: `make run` (set up + main job on the synthetic sample) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: run test setup manifest ui sample clean

run: setup manifest
	$(BIN)/python -m orchestration.main

test: setup manifest
	$(BIN)/python -m pytest -q

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The dbt manifest that Dagster reads (also seeds the docs); rebuilt when models change.
manifest: setup
	cd dbt_project && DBT_PROFILES_DIR=. ../$(BIN)/dbt parse --quiet

ui: setup manifest
	$(BIN)/dagster dev -w workspace.yaml

# Regenerate the committed synthetic sample (reproducible: same seed, same bytes).
sample: setup
	$(BIN)/python -m orchestration.synthetic --pupils 5000 --seed 20261122 --out data/sample

clean:
	rm -rf data/inbox data/warehouse data/restricted data/outbox data/tmp dbt_project/target
