# Two entry points (see README): `make demo` and `make test`.
# Each creates .venv and installs the project on first use, by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck pytest sandbox clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python -m rxlivechat demo

test: lint typecheck pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

pytest: $(BIN)/.installed
	$(BIN)/python -X dev -m pytest

sandbox: $(BIN)/.installed
	$(BIN)/python -m rxlivechat sandbox

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache
