# One Window — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask
PORT ?= 5000
STRIPE_PORT ?= 8420
export FLASK_APP := wsgi.py

.PHONY: setup run test test-sqlite test-postgres lint bench translations db clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Virtualenv, dependencies and compiled translation catalogs.
setup: $(BIN)/.installed
	$(BIN)/pybabel -q compile -d translations

# Migrations and the demo cluster (loaded only into an empty database).
db: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty

# Everything, then serve on http://127.0.0.1:$(PORT) with localstripe beside it.
# Ctrl-C stops both.
run: db
	@mkdir -p instance
	@$(BIN)/localstripe --port $(STRIPE_PORT) --from-scratch > instance/localstripe.log 2>&1 & \
	stripe_pid=$$!; \
	trap 'kill $$stripe_pid 2>/dev/null; wait $$stripe_pid 2>/dev/null' EXIT INT TERM; \
	echo "localstripe on http://127.0.0.1:$(STRIPE_PORT) (log: instance/localstripe.log)"; \
	STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_PORT) RUN_SCHEDULER=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set.
test: setup
	$(BIN)/pytest -q
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
		echo "--- again on PostgreSQL ($${TEST_DATABASE_URL%%@*}@...)"; \
		$(BIN)/pytest -q; \
	fi

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

# Re-extract interface strings and update every catalog (then translate what is new).
translations: setup
	bash translations/update.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache *.egg-info
