# Two commands: `make run` serves the app, `make test` runs the whole suite.
# Both set everything up first (`make setup`): system packages (as root), venv, migrations, bank.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# bubblewrap runs submissions (libseccomp2 compiles their syscall filter); Debian's python3 is
# the interpreter inside the sandbox;
# chromium (and CJK fonts) for the browser tests.
SYSTEM_PACKAGES := bubblewrap libseccomp2 python3 util-linux chromium fonts-noto-cjk

export FLASK_APP := wsgi

# The web runs as this unprivileged user (created by `make setup` as root); only the
# grading service keeps root. Everything that parses (HTTP, Markdown, YAML, zip files,
# including `flask bank load` here) runs as this user.
LOOPBACK_USER ?= loopback
INSTANCE := $(or $(LOOPBACK_INSTANCE),instance)
AS_WEB := $(if $(filter 0,$(shell id -u)),setpriv --reuid=$(LOOPBACK_USER) --regid=$(LOOPBACK_USER) --clear-groups --no-new-privs --)

.PHONY: setup system venv translations user db run run-scaled scaled-packages test-packages test lint bench bench-scaled bench-venv bench-locust assets

setup: system venv translations user db

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
	  $(if $(REQUIRE_PACKAGES),exit 1;) \
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

# As root: the web's system user, and the instance folder (database, secret key) its own.
# chown -h never follows a link someone put there.
user:
	@if [ "$$(id -u)" = 0 ]; then \
	  id -u $(LOOPBACK_USER) >/dev/null 2>&1 || { echo "creating system user $(LOOPBACK_USER)"; \
	    useradd --system --user-group --no-create-home --home-dir /nonexistent \
	      --shell /usr/sbin/nologin $(LOOPBACK_USER); }; \
	  install -d -o $(LOOPBACK_USER) -g $(LOOPBACK_USER) -m 0750 $(INSTANCE); \
	  chown -h $(LOOPBACK_USER):$(LOOPBACK_USER) $(INSTANCE); chmod 0750 $(INSTANCE); \
	  find $(INSTANCE) -maxdepth 1 -type f \( -name 'loopback.sqlite3*' -o -name secret_key \) \
	    -exec chown -h $(LOOPBACK_USER):$(LOOPBACK_USER) {} +; \
	  $(AS_WEB) test -r $(BIN)/flask || { echo "$(LOOPBACK_USER) cannot read $(CURDIR): put the project where it can"; exit 1; }; \
	fi

db: venv user
	$(AS_WEB) $(BIN)/flask db upgrade
	$(AS_WEB) $(BIN)/flask bank load

# The grading service (root) and the web (gunicorn as $(LOOPBACK_USER)), supervised together.
run: setup
	$(BIN)/python -m app.serve --host $(HOST) --port $(PORT)

# The scaled deployment on this machine (as root): nginx in front of two web processes,
# two grading workers, its own PostgreSQL and Redis, all under supervisord (app/scaled.py).
SCALED_PACKAGES := nginx redis-server postgresql
SCALED_PORT ?= 8080

# The same check and install as `system`, but run-scaled cannot go on without them.
# The same packages: required for run-scaled, and for the tests under CI.
scaled-packages test-packages:
	@$(MAKE) --no-print-directory system SYSTEM_PACKAGES="$(SCALED_PACKAGES)" \
	  $(if $(or $(filter scaled-packages,$@),$(filter true 1,$(CI))),REQUIRE_PACKAGES=1)

run-scaled: setup scaled-packages
	$(BIN)/python -m app.scaled --host $(HOST) --port $(SCALED_PORT)

# Two test workers (pytest-xdist), a test file each at a time (a file's tests may build on
# each other): the suite waits on sandboxes, sockets and browsers more than it computes.
# TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2

# The suite also runs the scaled stack (tests/test_run_scaled.py): its packages too, required
# under CI (CI=true), where a missing dependency fails the run rather than skipping tests.
test: setup test-packages
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/grading.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/live_sockets.py

# The scaled deployment under load and faults (as root; about ten minutes).
bench-scaled: setup scaled-packages
	$(BIN)/python bench/scaled.py

# Locust has a virtualenv of its own (bench/requirements.txt, with requirements.txt's pins as
# constraints; a constraint may not carry extras): the app's stays as tests expect it.
BENCH_VENV := .venv-bench

$(BENCH_VENV)/.installed: bench/requirements.txt requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --upgrade pip
	sed 's/\[[^]]*\]//' requirements.txt > $(BENCH_VENV)/constraints.txt
	$(BENCH_VENV)/bin/pip install -q -r bench/requirements.txt -c $(BENCH_VENV)/constraints.txt
	touch $@

bench-venv: $(BENCH_VENV)/.installed

# Locust learners on the embedded stack, then on the scaled one under faults (as root;
# about ten minutes).
bench-locust: setup scaled-packages bench-venv
	$(BIN)/python bench/locust_load.py

# Rebuild the committed JS bundles (static/js) from app/frontend (needs Node and npm).
assets:
	npm --prefix app/frontend ci
	npm --prefix app/frontend run build
