# Plaza. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | md5sum | cut -c1-8)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements-dev.txt | md5sum | cut -c1-8)
VENDOR := app/static/vendor/htmx.min.js

.PHONY: help install install-dev assets translations i18n run test test-pooled pgbouncer screenshots lint fmt requirements db-upgrade bench chromium backup restore

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# requirements.txt / requirements-dev.txt are compiled from the .in files (pinned, with hashes): `make requirements`.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	rm -f $(VENV)/.installed-????????
	touch $@

$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(PY) -m pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-dev-*
	touch $@

$(VENDOR): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p app/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js app/static/vendor/htmx.min.js
	cp node_modules/socket.io-client/dist/socket.io.min.js app/static/vendor/socket.io.min.js
	mkdir -p app/static/vendor/leaflet
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images app/static/vendor/leaflet/
	cp node_modules/chart.js/dist/chart.umd.js app/static/vendor/chart.umd.js
	mkdir -p app/static/vendor/workbox
	cp node_modules/workbox-sw/build/workbox-sw.js app/static/vendor/workbox/
	for m in core routing strategies precaching expiration cacheable-response; do \
	  cp node_modules/workbox-$$m/build/workbox-$$m.prod.js app/static/vendor/workbox/; done
	touch $@

install: $(STAMP) assets translations ## Create .venv, install the runtime requirements (requirements.txt), front-end assets and compiled translations

# Translations: app/translations/<lang>/LC_MESSAGES/messages.po (kept in git) compile to .mo (not kept).
CATALOGS := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
$(CATALOGS:.po=.mo): %.mo: %.po $(STAMP)
	$(VENV)/bin/pybabel -q compile --use-fuzzy -i $< -o $@

translations: $(CATALOGS:.po=.mo) ## Compile the translation catalogues (.po -> .mo)

i18n: $(STAMP) ## Extract every marked string into app/translations/messages.pot, update each catalogue, compile
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k lazy_ngettext:1,2 -k _l --no-location --sort-output \
	    --add-comments=Translators: --project=Plaza -o app/translations/messages.pot .
	$(VENV)/bin/pybabel -q update --ignore-obsolete --no-fuzzy-matching -i app/translations/messages.pot -d app/translations
	$(VENV)/bin/pybabel -q compile -d app/translations

install-dev: install $(DEV_STAMP) ## install, plus the test and lint tools (requirements-dev.txt)

assets: $(VENDOR) ## Vendor front-end assets from the npm registry into app/static/vendor

run: install ## Start Plaza (embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL), web + worker
	$(PY) scripts/run.py

chromium: ## Make sure a Chromium for browser tests is available
	@bash scripts/ensure-chromium.sh

test: install-dev lint chromium pgbouncer ## Run the whole test suite (lint first), then its pooled subset
	$(PY) -m pytest --durations=15
	$(MAKE) --no-print-directory test-pooled

# The integration tests of tenancy, booking, scheduling, jobs, the storefront and the API again, with the
# app's database roles behind PgBouncer in transaction pooling mode (tests/support/pgbouncer.py). Not the
# database-role tests (test_db_roles.py): they set session-level state on raw connections on purpose.
POOLED_TESTS := tests/tenants tests/booking tests/scheduling tests/jobs tests/blueprints/storefront tests/blueprints/api \
	--ignore=tests/tenants/test_db_roles.py
test-pooled: install-dev pgbouncer ## The pooled subset alone: integration tests through PgBouncer (transaction pooling)
	PLAZA_PGBOUNCER=1 $(PY) -m pytest -m integration $(POOLED_TESTS)

pgbouncer: ## Make sure PgBouncer is available for the pooled test run
	@bash scripts/ensure-pgbouncer.sh

screenshots: install-dev chromium ## Re-record docs/screenshots/ (the browser tests; otherwise they write to a temporary folder)
	PLAZA_SCREENSHOTS=1 $(PY) -m pytest -m e2e
	PLAZA_SCREENSHOTS=1 $(PY) -m pytest tests/payments/test_payments_e2e.py
	PLAZA_SCREENSHOTS=1 $(PY) -m pytest tests/blueprints/billing/test_billing_screens.py

lint: $(DEV_STAMP) ## ruff, and the import contracts (lint-imports, .importlinter)
	$(VENV)/bin/ruff check app tests scripts bench worker.py wsgi.py
	$(VENV)/bin/lint-imports

fmt: $(DEV_STAMP) ## ruff --fix
	$(VENV)/bin/ruff check --fix app tests scripts bench worker.py wsgi.py

requirements: $(DEV_STAMP) ## Re-compile requirements*.txt from requirements*.in (pip-compile, hashes; keeps existing pins)
	$(VENV)/bin/pip-compile -q --allow-unsafe --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links requirements.in
	$(VENV)/bin/pip-compile -q --allow-unsafe --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links requirements-dev.in

db-upgrade: install ## Apply migrations to DATABASE_URL (MIGRATION_DATABASE_URL for the owner role)
	$(VENV)/bin/flask --app wsgi db upgrade

bench: install-dev ## Run the benchmarks in bench/ (localstripe comes with the dev requirements)
	$(PY) bench/run.py

.PHONY: load
load: install-dev ## Multi-node load test: 2 web processes + 2 workers under Locust for 3 minutes (bench/multinode.py)
	$(PY) bench/multinode.py

backup: $(STAMP) ## Back up the embedded database (make run's var/postgres) to var/backups/plaza-<time>.dump
	$(PY) scripts/backup.py

restore: $(STAMP) ## Replace the embedded database with a backup: make restore FILE=var/backups/plaza-….dump (stop make run first)
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/plaza-….dump"; exit 2; }
	$(PY) scripts/backup.py --restore "$(FILE)"
