# Two entry points (see README): `make demo` and `make test`.
# Each creates .venv and installs the project on first use, by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: bench demo test lint typecheck pytest versions notebooks docs docs-serve dist sandbox clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python -m rxlivechat demo

# Everything CI checks: lint, types, the tests (the notebooks and the packaging
# test included), the core tests on every supported Python, and the docs built in
# strict mode.
test: lint typecheck pytest versions docs

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

# The test suite; pyproject.toml adds notebooks/ (run by nbmake) to the paths.
pytest: $(BIN)/.installed
	$(BIN)/python -X dev -m pytest

# The core tests on Python 3.11, 3.12 and 3.13 (noxfile.py; venvs kept in .nox/).
versions: $(BIN)/.installed
	$(BIN)/nox

notebooks: $(BIN)/.installed
	$(BIN)/python -X dev -m pytest notebooks

docs: $(BIN)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(BIN)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

dist: $(BIN)/.installed
	$(BIN)/python -m build --outdir dist .

sandbox: $(BIN)/.installed
	$(BIN)/python -m rxlivechat sandbox

clean:
	rm -rf $(VENV) build dist site .mypy_cache .ruff_cache

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks
