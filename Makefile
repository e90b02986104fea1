# Everything sets itself up: a virtual environment from pyproject.toml and the pinned Node
# toolchain (CDK CLI, Node 22 for jsii) from package-lock.json.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: setup demo test lint typecheck unit synth local bench clean

setup: $(VENV_STAMP) $(NODE_STAMP)

$(VENV_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: setup
	$(BIN)/ecomops demo

local: setup
	$(BIN)/ecomops local up

synth: setup
	$(BIN)/ecomops stack synth

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

test: setup lint typecheck
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/cold_start.py

clean:
	rm -rf $(VENV) node_modules cdk.out build .demo
