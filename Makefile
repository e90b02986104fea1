# Everything sets itself up: a virtual environment from pyproject.toml and the pinned Node
# toolchain (CDK CLI, Node 22 for jsii) from package-lock.json.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: setup demo test lint typecheck unit synth local bench clean

# The virtual environment and the Node toolchain are fetched side by side.
setup:
	@$(MAKE) --no-print-directory -j2 $(VENV_STAMP) $(NODE_STAMP)

$(VENV_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
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
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

# The unit, stack and end-to-end tests on four workers (end-to-end tests spend much of their
# time waiting on the local stack, and the chaos test holds one worker); beside them the
# date-sensitive tests (component and workflow) once per clock, one clock per worker in each of
# their two passes (tests/travel.py): today's; a minute before the latest night, at least a
# month back, when Amsterdam (the demo tenant's zone) changed to or from summer time; and a
# minute before the first 29 February at least a year ahead. Each moved clock covers two of the
# ways a date can break (back / a zone's change; a year on / a leap day), so three passes do the
# work of five (each clock costs ~210 s of CPU: ~110 component, ~100 workflow).
TEST_WORKERS ?= 4
TRAVEL ?= +0d,dst-back:Europe/Amsterdam,leap-day
comma := ,
TRAVEL_WORKERS = $(words $(subst $(comma), ,$(TRAVEL)))

# The checks (lint, import contracts, types) and the test passes run side by side: the
# end-to-end pass waits on its long chaos test with a core to spare, and the clock passes are
# two (component tests; workflow tests) so that each clock's tests run on two workers, not one
# worker taking every test of its clock in turn. The checks' and the clock passes' output are
# shown when all are done; any failure fails the target.
CLOCK_PASS = $(BIN)/python -m pytest -q -n $(TRAVEL_WORKERS) --dist each --durations=10 --travel=$(TRAVEL)

test: setup
	@mkdir -p build; \
	$(MAKE) --no-print-directory lint typecheck > build/checks.log 2>&1 & checks=$$!; \
	$(CLOCK_PASS) tests/workflow > build/clock-pass-workflow.log 2>&1 & workflows=$$!; \
	$(CLOCK_PASS) tests/component > build/clock-pass-component.log 2>&1 & components=$$!; \
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --durations=12 tests/unit tests/stack tests/e2e; main=$$?; \
	wait $$checks; checked=$$?; wait $$workflows; flowed=$$?; wait $$components; composed=$$?; \
	echo "--- lint, import contracts and types (build/checks.log) ---"; \
	tail -n 30 build/checks.log; \
	echo "--- component tests on every clock (build/clock-pass-component.log) ---"; \
	tail -n 20 build/clock-pass-component.log; \
	echo "--- workflow tests on every clock (build/clock-pass-workflow.log) ---"; \
	tail -n 20 build/clock-pass-workflow.log; \
	test $$checked -eq 0 && test $$main -eq 0 && test $$flowed -eq 0 && test $$composed -eq 0

bench: setup
	$(BIN)/python bench/cold_start.py

clean:
	rm -rf $(VENV) node_modules cdk.out build .demo
