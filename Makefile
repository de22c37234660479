SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTHON ?= python3
# check --deploy needs production settings with some values; these are dummies for the check only.
DEPLOY_CHECK_ENV := DJANGO_SETTINGS_MODULE=helpdesk.settings.production DJANGO_ALLOWED_HOSTS=helpdesk.example.com \
	REDIS_URL=redis://127.0.0.1:6379/0 REDIS_CACHE_URL=redis://127.0.0.1:6379/1 CLIENT_IP_PROXY_COUNT=1 \
	DJANGO_SECRET_KEY=deploy-check-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP \
	INBOUND_REPLY_ADDRESS_KEY=deploy-check-reply-key INBOUND_CREDENTIALS_KEY=ZGVwbG95LWNoZWNrLWNyZWRlbnRpYWxzLWtleS0wMDA=

.PHONY: run test browser imap-server lint format install install-dev migrate seed worker beat clean bench bench-surveys bench-inbound

run: install ## set up (venv, deps, migrate, demo data) and start web + worker + beat + mail gateway
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Helpdesk:  http://127.0.0.1:8000/      Admin: http://127.0.0.1:8000/admin/"
	@echo "  Mail in:   smtp://127.0.0.1:2525 (gateway)"
	@echo "  Stop with Ctrl-C."
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start

test: install-dev browser imap-server lint ## lint, then the whole test suite (Postgres + Redis when DATABASE_URL / REDIS_URL are set)
	$(BIN)/pytest --junitxml=var/junit.xml

browser: ## Debian's Chromium for the browser tests (never a downloaded browser)
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)

imap-server: ## Debian's dovecot for the IMAP polling tests (each test starts its own, on 127.0.0.1, in a temp dir)
	@test -x /usr/sbin/dovecot || (apt-get update -q && apt-get install -y -q dovecot-imapd)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run --settings=helpdesk.settings.test
	$(PY) manage.py spectacular --validate --fail-on-warn --settings=helpdesk.settings.test --file /dev/null
	$(DEPLOY_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	touch $@

$(VENV)/.installed: $(VENV)/.created requirements.txt
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# `make bench`: 100k demo tickets in databases of their own (never var/db.sqlite3 or the test databases), then the
# page timings of bench_pages (each figure the median of 3 rounds), on SQLite and, when it answers on 127.0.0.1, on
# Postgres. Seeding is idempotent; Postgres is timed after VACUUM ANALYZE (fresh planner statistics and visibility
# map, whatever the seeding wrote or the migrations changed), as a production database kept by autovacuum would be.
BENCH_TICKETS ?= 100000
BENCH_SQLITE_URL ?= sqlite:///$(CURDIR)/var/bench.sqlite3
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432/helpdesk_bench

bench: install ## seed 100k demo tickets (SQLite, and Postgres if reachable) and print the page timings
	DATABASE_URL=$(BENCH_SQLITE_URL) $(PY) manage.py migrate --noinput
	DATABASE_URL=$(BENCH_SQLITE_URL) $(PY) manage.py seed_demo --tickets $(BENCH_TICKETS)
	DATABASE_URL=$(BENCH_SQLITE_URL) $(PY) manage.py bench_pages
	@if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1; then \
		set -e; \
		psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw helpdesk_bench \
			|| createdb -h 127.0.0.1 -U postgres helpdesk_bench; \
		set -x; \
		DATABASE_URL=$(BENCH_PG_URL) $(PY) manage.py migrate --noinput; \
		DATABASE_URL=$(BENCH_PG_URL) $(PY) manage.py seed_demo --tickets $(BENCH_TICKETS); \
		psql "$(BENCH_PG_URL)" -qc "VACUUM ANALYZE"; \
		DATABASE_URL=$(BENCH_PG_URL) $(PY) manage.py bench_pages; \
	else \
		echo "Postgres does not answer on 127.0.0.1:5432 (pg_isready): Postgres benchmark skipped."; \
	fi
	@if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1; then \
		$(MAKE) --no-print-directory bench-surveys; \
		$(MAKE) --no-print-directory bench-inbound; \
	else \
		echo "Postgres does not answer on 127.0.0.1:5432 (pg_isready): survey email and email-in benchmarks skipped."; \
	fi

# `make bench-surveys`: survey emails end to end (close → invitation → outbox → Celery worker x2 → SMTP sink) against
# plain smtplib, on Postgres and Redis on 127.0.0.1. Its own database: the bench runs the real beat work, which would
# also email the demo's due invitations in helpdesk_bench. Its bench data is deleted after each run.
BENCH_SURVEYS_PG_URL ?= postgres://postgres@127.0.0.1:5432/helpdesk_bench_surveys
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/0
BENCH_SURVEYS_N ?= 2000

bench-surveys: install-dev ## survey emails/s end to end vs plain smtplib (Postgres + Redis on 127.0.0.1)
	psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw helpdesk_bench_surveys \
		|| createdb -h 127.0.0.1 -U postgres helpdesk_bench_surveys
	DATABASE_URL=$(BENCH_SURVEYS_PG_URL) $(PY) manage.py migrate --noinput
	DATABASE_URL=$(BENCH_SURVEYS_PG_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) manage.py bench_surveys --n $(BENCH_SURVEYS_N)

# `make bench-inbound`: email in through the mail gateway: aiosmtpd bare vs the gateway storing each email (target
# ratio ≥ 0.5), and end to end to a ticket message with a Celery worker, on Postgres and Redis on 127.0.0.1. Its own
# database (the routing work is real) and its own Redis database: the desk's cache shares the broker's Redis database,
# and a test run beside it (cache.clear() is FLUSHDB) would drop the bench's queued tasks. Its data is deleted after.
BENCH_INBOUND_PG_URL ?= postgres://postgres@127.0.0.1:5432/helpdesk_bench_inbound
BENCH_INBOUND_REDIS_URL ?= redis://127.0.0.1:6379/2
BENCH_INBOUND_N ?= 1000

bench-inbound: install ## email in: aiosmtpd bare vs the gateway storing, and end to end to a ticket (Postgres + Redis)
	psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw helpdesk_bench_inbound \
		|| createdb -h 127.0.0.1 -U postgres helpdesk_bench_inbound
	DATABASE_URL=$(BENCH_INBOUND_PG_URL) $(PY) manage.py migrate --noinput
	DATABASE_URL=$(BENCH_INBOUND_PG_URL) REDIS_URL=$(BENCH_INBOUND_REDIS_URL) $(PY) manage.py bench_inbound --n $(BENCH_INBOUND_N)

clean:
	rm -rf var/db.sqlite3* var/celery var/mail
