# make demo: run the main job on a sample sheet against the in-process sandbox.
# make test: lint, type-check and run the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/provisioner run samples/new-buyers.xlsx --sandbox --results demo-results.xlsx; \
	code=$$?; if [ $$code -ne 0 ] && [ $$code -ne 1 ]; then exit $$code; fi

lint: $(STAMP)
	$(BIN)/ruff check provisioner tests benchmarks
	$(BIN)/ruff format --check provisioner tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.validate_bench
	$(BIN)/python -m benchmarks.throughput_bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
