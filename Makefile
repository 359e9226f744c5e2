# One Window — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask
PORT ?= 5000
STRIPE_PORT ?= 8420
export FLASK_APP := wsgi.py

.PHONY: setup lock run test test-fast lint bench bench-figures translations db clean

# A new virtualenv with exactly what requirements.lock says (versions and hashes), made
# again whenever the lock changes. The project itself runs from the checkout.
$(BIN)/.installed: requirements.lock
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--require-hashes --no-deps -r requirements.lock
	touch $@

# Virtualenv, dependencies and compiled translation catalogs.
setup: $(BIN)/.installed
	$(BIN)/pybabel -q compile -d translations

# Refresh the lock on purpose, from pyproject.toml's ranges (ARGS="--upgrade-package stripe"
# to move one dependency, ARGS=--upgrade for all), then `make test`.
lock: $(BIN)/.installed
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--universal --quiet $(ARGS) -o requirements.lock

# Migrations and the demo cluster (loaded only into an empty database; its completed,
# reviewed journeys only when Stripe answers at STRIPE_API_BASE, as under `make run`).
db: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty

# Everything, then serve on http://127.0.0.1:$(PORT) with localstripe beside it:
# localstripe starts first (the demo's completed journeys are paid through it), then the
# migrations and the demo cluster, then the server. Ctrl-C stops both.
run: setup
	@mkdir -p instance
	@$(BIN)/localstripe --port $(STRIPE_PORT) --from-scratch > instance/localstripe.log 2>&1 & \
	stripe_pid=$$!; \
	trap 'kill $$web_pid $$stripe_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM; \
	for _ in $$(seq 1 100); do \
		(exec 3<>/dev/tcp/127.0.0.1/$(STRIPE_PORT)) 2>/dev/null && break; \
		kill -0 $$stripe_pid 2>/dev/null || break; \
		sleep 0.1; \
	done; \
	(exec 3<>/dev/tcp/127.0.0.1/$(STRIPE_PORT)) 2>/dev/null || \
		echo "localstripe does not answer on port $(STRIPE_PORT) (see instance/localstripe.log)"; \
	$(FLASK) db upgrade || exit 1; \
	STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_PORT) $(FLASK) seed-demo --if-empty || exit 1; \
	STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_PORT) RUN_SCHEDULER=1 \
		$(FLASK) run --host 127.0.0.1 --port $(PORT) & \
	web_pid=$$!; \
	$(FLASK) welcome --url http://127.0.0.1:$(PORT)/ || true; \
	wait $$web_pid

# The suite on SQLite (whatever TEST_DATABASE_URL says), then on PostgreSQL when
# TEST_DATABASE_URL is set (.ci/run sets it); two workers
# (pytest-xdist, a database each). PYTEST_ARGS adds options, e.g. PYTEST_ARGS="-x -n0".
PYTEST := $(BIN)/pytest -q -n $(or $(WORKERS),2) --dist loadfile $(PYTEST_ARGS)
test: setup
	@echo "--- on SQLite"
	TEST_DATABASE_URL= $(PYTEST)
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
		echo "--- again on PostgreSQL ($${TEST_DATABASE_URL%%@*}@...)"; \
		$(PYTEST); \
	fi

# The inner loop: everything but the browser and slow tests, SQLite only.
test-fast: setup
	TEST_DATABASE_URL= $(BIN)/pytest -q -n $(or $(WORKERS),2) -m "not slow and not browser" \
		$(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

# Benchmarks against PostgreSQL; not part of `make test`. The quote benchmark reuses
# the large catalogue the catalogue benchmark leaves behind; the contention benchmark
# (1,000 checkouts for 100 units, against localstripe) has its own small database.
bench: setup
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python -m bench.catalogue
	$(BIN)/python -m bench.quote
	$(BIN)/python -m bench.contention

# The figures dashboard over a generated year (25,000 journeys, 100,000 booking lines) on
# PostgreSQL: p95 of /figures next to a one-query baseline, and the ledger check.
bench-figures: setup
	$(BIN)/python -m bench.figures_bench

# Re-extract interface strings and update every catalog (then translate what is new).
translations: setup
	bash translations/update.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache *.egg-info
