# geowire: `make run` runs the nightly DAG on the sample inbox through Airflow; `make test` runs the suite.
# Needs only Python 3.11+ and make: uv is bootstrapped through pip when it is missing.

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(PYTHON) -m uv
endif

RUN_DATE ?= 2026-01-07
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export GEOWIRE_WAREHOUSE ?= $(CURDIR)/warehouse
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN := sqlite:///$(AIRFLOW_HOME)/airflow.db
export AIRFLOW__CORE__UNIT_TEST_MODE := False

.PHONY: help setup browser run test lint bench bench-memory clean

help:
	@echo "make run    nightly DAG on the sample inbox, through Airflow, into ./warehouse"
	@echo "make test   the test suite"
	@echo "make lint   ruff and mypy"
	@echo "make bench  throughput at N=1000 against a naive full-spaCy baseline (N=300, compared per word)"
	@echo "make bench-memory  throughput and peak RSS at N=1000 and N=5000 (flat memory check; long)"

# Bytecode is compiled once here: with PYTHONDONTWRITEBYTECODE set, every pool worker, Airflow task and test
# process would otherwise compile spaCy, pandas and Great Expectations from source on import (13 s for GX alone).
setup:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet --compile-bytecode

# The report's browser test (tests/test_report.py) drives Debian's chromium; install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing chromium for the browser test"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

run: setup
	@mkdir -p "$(AIRFLOW_HOME)"
	@$(UV) run --frozen airflow db migrate >"$(AIRFLOW_HOME)/db-migrate.log" 2>&1 || (cat "$(AIRFLOW_HOME)/db-migrate.log"; exit 1)
	$(UV) run --frozen airflow dags test news_nightly -c '{"partition_date": "$(RUN_DATE)"}' >"$(AIRFLOW_HOME)/dags-test.log" 2>&1 \
		|| (tail -n 60 "$(AIRFLOW_HOME)/dags-test.log"; exit 1)
	@echo "Airflow log: $(AIRFLOW_HOME)/dags-test.log"
	@$(UV) run --frozen geowire summary --warehouse "$(GEOWIRE_WAREHOUSE)" --date $(RUN_DATE)
	@test -f "$(GEOWIRE_WAREHOUSE)/reports/$(RUN_DATE).html" && echo "Report: $(GEOWIRE_WAREHOUSE)/reports/$(RUN_DATE).html"
	@echo 'Example query: geowire query --warehouse warehouse "select actor_id, name, actor_type, affiliation_id from news.actor_dim order by actor_id"'
	@$(UV) run --frozen geowire query --warehouse "$(GEOWIRE_WAREHOUSE)" \
		"select actor_id, name, actor_type, affiliation_id from news.actor_dim order by actor_id"

test: setup browser
	$(UV) run --frozen pytest

lint: setup
	$(UV) run --frozen ruff check pipeline dags tests
	$(UV) run --frozen mypy

clean:
	rm -rf "$(AIRFLOW_HOME)" warehouse/parquet warehouse/quarantine warehouse/quality warehouse/runs warehouse/_work \
		warehouse/reports \
		warehouse/geowire.duckdb warehouse/.geowire.duckdb.lock
bench: setup
	$(UV) run --frozen python tests/bench/bench.py --n 1000 --baseline-n 300 --workers 2
bench-memory: setup
	$(UV) run --frozen python tests/bench/bench.py --n 1000 --n 5000 --skip-baseline --workers 2
