# Ruilkring: the two commands are `make run` and `make test`. See README.md.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
HARNESS := $(PY) tests/harness.py --
CHROMIUM ?= /usr/bin/chromium
AXE := node_modules/axe-core/axe.min.js

.DEFAULT_GOAL := help
.PHONY: help run test audit backup restore prod-smoke browser-tools bench bench-ledger bench-listings bench-reciprocity bench-reciprocity-report bench-soak lint format messages clean check-python

help:
	@echo "make run    start the site with demo data on http://127.0.0.1:8000"
	@echo "make test   lint, check and run the whole test suite (private PostgreSQL and Redis,"
	@echo "            and Chromium for the browser tests)"
	@echo "make audit  check the pinned dependencies for known vulnerabilities (part of make test)"
	@echo "make backup [BACKUP=file]   pg_dump of DATABASE_URL (default: var/backups/)"
	@echo "make restore BACKUP=file INTO=postgres://.../new_db   load it into a new database and verify the books"
	@echo "make prod-smoke  the production stack on loopback (gunicorn, Celery worker and beat), walked through once"
	@echo "make bench  run the benchmarks in tests/perf/"
	@echo "make bench-soak  the production stack under a realistic load for 10 minutes (locust)"
	@echo "make format format the code with ruff"
	@echo "make messages  update and compile the translation catalogues"

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Ruilkring needs Python 3.11 or newer; found " + sys.version.split()[0])'

# A fresh Debian or Ubuntu may lack the venv module; as root, install it.
$(VENV)/bin/python: | check-python
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); \
	  else \
	    echo "Python's venv module is missing: install python3-venv and try again."; exit 1; \
	  fi; }

$(RUNTIME_STAMP): requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@ $(RUNTIME_STAMP)

run: $(RUNTIME_STAMP)
	$(PY) -m ruilkring.localrun

# The browser tests drive Debian's chromium package (never a browser that
# Playwright downloads) and inject axe-core from npm, pinned in package-lock.json.
# As root, missing system packages are installed with apt.
browser-tools: $(AXE)
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Chromium: install the package chromium (sudo apt-get install chromium)."; exit 1; \
	  fi; }

$(AXE): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	  else \
	    echo "The browser tests need npm for axe-core: install the package npm."; exit 1; \
	  fi; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

test: $(DEV_STAMP) browser-tools
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory audit
	$(HARNESS) $(MAKE) --no-print-directory test-with-services

# Every pin in both requirement files against PyPI's vulnerability feed, with
# pip-audit; a finding fails unless accepted-vulnerabilities.txt accepts it with
# a reason. See ruilkring/dependency_audit.py.
audit: $(DEV_STAMP)
	$(PY) -m ruilkring.dependency_audit

# A custom-format pg_dump of DATABASE_URL; and its restore into a new database,
# followed by ledger_verify there. See ruilkring/backup.py.
backup: $(RUNTIME_STAMP)
	$(PY) -m ruilkring.backup write $(if $(BACKUP),--file "$(BACKUP)")

restore: $(RUNTIME_STAMP)
	@test -n "$(BACKUP)" && test -n "$(INTO)" || { \
	  echo "Usage: make restore BACKUP=var/backups/FILE.dump INTO=postgres://USER@HOST/NEW_DATABASE"; exit 2; }
	$(PY) -m ruilkring.backup restore --file "$(BACKUP)" --into "$(INTO)"

# The production stack on loopback, on a database of its own in the harness's
# PostgreSQL: gunicorn, the Celery worker and beat as deploy/ starts them, with
# the production settings and the demo. A member pays on the web form, a
# coordinator signs in with an authenticator-app code, the nightly analysis runs
# on the worker; static files, security headers, /healthz. A few minutes, most
# of it collectstatic and the demo seed. See ruilkring/prodsmoke.py.
prod-smoke: $(DEV_STAMP)
	$(HARNESS) $(PY) -m ruilkring.prodsmoke

# Runs inside the harness, which has started PostgreSQL and Redis and exported
# their addresses. pytest exits with 5 when it collects no tests, which fails too.
test-with-services:
	DJANGO_SETTINGS_MODULE=ruilkring.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=ruilkring.settings.production \
	  DJANGO_SECRET_KEY="check-deploy-$$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
	  DJANGO_ALLOWED_HOSTS=ruilkring.example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING
	$(PY) -m pytest
	@echo "Embedded default: migrate, seed the demo and verify the books on SQLite"
	@dir="$$(mktemp -d)"; \
	  DATABASE_URL="sqlite:///$$dir/embedded.sqlite3" DJANGO_SETTINGS_MODULE=ruilkring.settings.base \
	  sh -c '$(PY) manage.py migrate --noinput -v0 && $(PY) manage.py seed_demo >/dev/null && $(PY) manage.py ledger_verify'; \
	  status=$$?; rm -rf "$$dir"; exit $$status

bench: $(DEV_STAMP)
	$(HARNESS) $(PY) -m pytest tests/perf -p no:cacheprovider -o addopts="" -s
	$(MAKE) --no-print-directory bench-listings
	$(MAKE) --no-print-directory bench-reciprocity
	$(MAKE) --no-print-directory bench-reciprocity-report
	$(MAKE) --no-print-directory bench-ledger
	$(MAKE) --no-print-directory bench-soak

# Listing search with filters over 100,000 listings in 50 communities, on a
# private PostgreSQL; about a minute. Writes var/bench/listings.json.
bench-listings: $(DEV_STAMP)
	$(PY) -m tests.perf.listings_bench

# The nightly reciprocity analysis of 201 communities (105,000 members, 5.1 million
# transfers over three years) over 2 processes, one community of 5,000 members,
# and the engine next to plain networkx, on a private PostgreSQL; about 10
# minutes, a third of it loading the books. Writes var/bench/reciprocity.json.
bench-reciprocity: $(DEV_STAMP)
	$(PY) -m tests.perf.reciprocity_bench

# The reciprocity report on an export of 100,000 payments, without a database;
# a few seconds. Writes var/bench/reciprocity_report.json.
bench-reciprocity-report: $(DEV_STAMP)
	$(PY) -m tests.perf.reciprocity_report_bench

# Transfers per second of the ledger next to django-hordak and the commit floor,
# on a private PostgreSQL with fsync and synchronous_commit on (not the harness's);
# about 15 minutes. RUILKRING_BENCH_SECONDS=2 makes a quick smoke run. Writes
# var/bench/ledger.json.
bench-ledger: $(DEV_STAMP)
	$(PY) -m tests.perf.ledger_bench

# The production stack on loopback (as make prod-smoke) under a realistic mix of
# members, API clients and a coordinator (locust, 20 users) for 10 minutes, then
# payments next to a trivial API call side by side; the memory of the gunicorn
# and Celery workers is sampled throughout. Fails on a 5xx or memory growth past
# 10%. About 15 minutes. Writes var/bench/soak.json. See tests/perf/soak.py.
bench-soak: $(DEV_STAMP)
	$(HARNESS) $(PY) -m tests.perf.soak --minutes 10

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: $(DEV_STAMP)
	$(PY) manage.py makemessages --locale nl --locale en --ignore ".venv/*" --ignore "var/*" --ignore "tests/*" --ignore "node_modules/*" --no-obsolete
	$(PY) -m ruilkring.catalogues
	$(PY) manage.py compilemessages --ignore ".venv/*"

clean:
	rm -rf $(VENV) node_modules var/ruilkring.sqlite3* var/broker var/celerybeat-schedule* var/static
