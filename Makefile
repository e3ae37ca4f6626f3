# One command to run the app, one to run every test. Needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export FLASK_APP := app:create_app

.PHONY: install run run-prod test-pay test lint format bench bench-quality bench-matching bench-reports clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## make run: install, migrate the SQLite database, load demo data, print keys, start the
## localstripe emulator (unless STRIPE_SECRET_KEY is set) and serve on :8000
run: install
	BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) scripts/run-dev.sh

## make run-prod: the production mode on one machine: Postgres and Redis from the system
## packages (installed if missing, started on 127.0.0.1), Celery worker + beat, gunicorn
run-prod: install
	BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) scripts/run-prod.sh

## make test-pay TOPUP=<id>: pay a pending top-up with Stripe's test card (with `make run` up)
test-pay: install
	set -a && . instance/localstripe.env && set +a && $(BIN)/flask billing test-pay $(TOPUP)

## make test: the whole suite on SQLite and on a throwaway local Postgres
test: install
	scripts/with-postgres.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy exchange quality billing database.py errors.py

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make bench: the exchange under wrk load (1,000 and 10,000 campaigns, SQLite and Postgres)
## against the bare Flask endpoint, then the report queries over a million leads (as
## bench-reports); installs wrk from the Debian packages when missing
bench: install
	@command -v wrk >/dev/null || { echo "bench: installing wrk"; \
	  if [ "$$(id -u)" = 0 ]; then S=; else S=sudo; fi; \
	  $$S apt-get update -qq && $$S env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	scripts/with-postgres.sh $(BIN)/python -m bench.intake $(BENCH_ARGS)
	$(BIN)/python -m bench.reports $(BENCH_LEADS)
	scripts/with-postgres.sh $(BIN)/python -m bench.reports $(BENCH_LEADS)

bench-quality: install
	$(BIN)/python -m bench.quality

## make bench-matching: per-lead matching cost with 100, 1,000 and 10,000 campaigns
bench-matching: install
	$(BIN)/python -m bench.matching
	scripts/with-postgres.sh $(BIN)/python -m bench.matching

## make bench-reports: every report over 30 days on a million seeded leads (p50/p99 ms)
bench-reports: install
	$(BIN)/python -m bench.reports $(BENCH_LEADS)
	scripts/with-postgres.sh $(BIN)/python -m bench.reports $(BENCH_LEADS)

clean:
	rm -rf $(VENV) instance/exchange.db* .pytest_cache .mypy_cache .ruff_cache
