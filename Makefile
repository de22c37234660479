SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTHON ?= python3
# check --deploy needs production settings with some values; these are dummies for the check only.
DEPLOY_CHECK_ENV := DJANGO_SETTINGS_MODULE=helpdesk.settings.production DJANGO_ALLOWED_HOSTS=helpdesk.example.com \
	REDIS_URL=redis://127.0.0.1:6379/0 \
	DJANGO_SECRET_KEY=deploy-check-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP

.PHONY: run test browser lint format install install-dev migrate seed worker beat clean

run: install ## set up (venv, deps, migrate, demo data) and start web + worker + beat
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Helpdesk:  http://127.0.0.1:8000/      Admin: http://127.0.0.1:8000/admin/"
	@echo "  Stop with Ctrl-C."
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start

test: install-dev browser lint ## lint, then the whole test suite (Postgres + Redis when DATABASE_URL / REDIS_URL are set)
	$(BIN)/pytest --junitxml=var/junit.xml

browser: ## Debian's Chromium for the browser tests (never a downloaded browser)
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
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

clean:
	rm -rf var/db.sqlite3* var/celery var/mail
