# Plaza. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | md5sum | cut -c1-8)
VENDOR := app/static/vendor/htmx.min.js

.PHONY: help install assets run test lint fmt db-upgrade bench chromium backup restore

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

$(VENDOR): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p app/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js app/static/vendor/htmx.min.js
	cp node_modules/socket.io-client/dist/socket.io.min.js app/static/vendor/socket.io.min.js
	touch $@

install: $(STAMP) assets ## Create .venv, install pinned requirements and front-end assets

assets: $(VENDOR) ## Vendor front-end assets from the npm registry into app/static/vendor

run: install ## Start Plaza (embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL), web + worker
	$(PY) scripts/run.py

chromium: ## Make sure a Chromium for browser tests is available
	@bash scripts/ensure-chromium.sh

test: install lint chromium ## Run the whole test suite (lint first)
	$(PY) -m pytest

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check app tests scripts bench worker.py wsgi.py

fmt: $(STAMP) ## ruff --fix
	$(VENV)/bin/ruff check --fix app tests scripts bench worker.py wsgi.py

db-upgrade: install ## Apply migrations to DATABASE_URL (MIGRATION_DATABASE_URL for the owner role)
	$(VENV)/bin/flask --app wsgi db upgrade

bench: install ## Run the benchmarks in bench/
	$(PY) bench/run.py

backup: $(STAMP) ## Back up the embedded database (make run's var/postgres) to var/backups/plaza-<time>.dump
	$(PY) scripts/backup.py

restore: $(STAMP) ## Replace the embedded database with a backup: make restore FILE=var/backups/plaza-….dump (stop make run first)
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/plaza-….dump"; exit 2; }
	$(PY) scripts/backup.py --restore "$(FILE)"
