# Two entry points (see README): `make demo` and `make test`.
# Each creates .venv and installs what it needs on first use, by itself: the demo
# only the runtime (reactivex, aiohttp, msgspec: seconds), the rest .[dev].
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: bench demo test lint typecheck pytest versions notebooks docs docs-serve dist sandbox clean

# The runtime alone (the demo and the sandbox need nothing more), fast: a venv
# without a pip of its own (the system's pip installs into it: no ensurepip) and
# the dependencies only, read from pyproject.toml (no build of the project:
# `python -m rxlivechat` runs from this source tree).
DEPENDENCIES := $(PYTHON) -c "import tomllib; \
	print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))"
$(BIN)/.installed-runtime: pyproject.toml
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet \
		--disable-pip-version-check --no-compile $$($(DEPENDENCIES))
	touch $@

# Everything the tests, linters and docs use (the runtime included).
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $@ $(BIN)/.installed-runtime

demo: $(BIN)/.installed-runtime
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

sandbox: $(BIN)/.installed-runtime
	$(BIN)/python -m rxlivechat sandbox

clean:
	rm -rf $(VENV) build dist site .mypy_cache .ruff_cache

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks
