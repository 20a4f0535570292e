# PayFlow: `make run` starts the dashboard on the embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench clean

$(VENV)/.created:
	@PYTHON_BIN=$$(scripts/find-python) || exit 1; \
	  echo "Creating $(VENV) with $$PYTHON_BIN"; \
	  "$$PYTHON_BIN" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: $(VENV)/.created requirements.txt
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

# axe-core (pinned in tests/e2e/package-lock.json) for the browser accessibility checks.
tests/e2e/node_modules/.package-lock.json: tests/e2e/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the accessibility tests: apt-get install npm"; exit 1; }
	npm ci --prefix tests/e2e --no-audit --no-fund

test: $(VENV)/.installed-dev tests/e2e/node_modules/.package-lock.json
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -n 2

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed-dev
	$(PY) bench/stream.py

clean:
	rm -rf $(VENV) payflow.sqlite3* .test-db.sqlite3* artifacts .pytest_cache
