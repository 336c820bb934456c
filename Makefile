# Two commands: `make run` serves the app, `make test` runs the whole suite.
# Both set everything up first (`make setup`): system packages (as root), venv, migrations, bank.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# bubblewrap runs submissions; Debian's python3 is the interpreter inside the sandbox;
# chromium (and CJK fonts) for the browser tests.
SYSTEM_PACKAGES := bubblewrap python3 util-linux chromium fonts-noto-cjk

export FLASK_APP := wsgi

.PHONY: setup system venv translations db run test lint bench assets

setup: system venv translations db

system:
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "missing system packages:$$missing (install them, or run make as root)"; \
	fi

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

venv: $(VENV)/.installed

translations: venv
	$(BIN)/pybabel -q compile -d app/translations

db: venv
	$(BIN)/flask db upgrade
	$(BIN)/flask bank load

run: setup
	$(BIN)/gunicorn --workers 1 --threads 64 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/grading.py
	$(BIN)/python bench/web.py

# Rebuild the committed JS bundles (static/js) from app/frontend (needs Node and npm).
assets:
	npm --prefix app/frontend ci
	npm --prefix app/frontend run build
