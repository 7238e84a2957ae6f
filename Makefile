# The README's two commands: `make run` and `make test`. Each sets up what it needs itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test setup lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -e .
	$(BIN)/python -m nlp.deidentify --warm   # deduce's lookup cache, built once at install
	$(BIN)/python -m nlp.train --default     # the default theme model, from the shipped data
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --disable-pip-version-check -q -e '.[test]'
	touch $@

setup: $(STAMP)

run: $(STAMP)
	VERTELPUNT_DEMO=1 $(BIN)/vertelpunt serve

# axe-core for the accessibility tests (tests/e2e), from npm, pinned by its lock file.
AXE := tests/e2e/node_modules/axe-core/axe.min.js

$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility tests will skip (and fail in CI)"; fi

test: $(TEST_STAMP) $(AXE)
	$(BIN)/python -m pytest -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) data vertelpunt.db vertelpunt.db-wal vertelpunt.db-shm
