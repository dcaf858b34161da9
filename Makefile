# Naumur — the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_BUILD_CONSTRAINT := $(CURDIR)/.ci/build-constraints.txt
export PIP_CONSTRAINT := $(CURDIR)/.ci/build-constraints.txt $(wildcard /etc/xdg/pip/constraints.txt /etc/pip/constraints.txt)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres install install-dev messages catalogues system-test-deps lint format check-deploy bench load load-cluster serve-prod serve-lan clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est requis.")'
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); \
	  else echo "Installez python3-venv (apt-get install python3-venv) puis relancez." >&2; exit 1; fi; }
	$(VENV)/bin/pip install -q --disable-pip-version-check uv

$(VENV)/.installed: $(PY) pyproject.toml
	$(UV) pip install -q --python $(PY) -r pyproject.toml
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(UV) pip install -q --python $(PY) -r pyproject.toml --extra dev
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The translation catalogues: locale/<language>/LC_MESSAGES/*.po are kept in git, the compiled
# .mo beside them are not. Each .mo older than its .po is compiled by gettext's msgfmt, as
# `manage.py compilemessages` would, without starting Django when nothing changed; Debian's
# package `gettext` is installed here when msgfmt is missing.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)
messages: $(MO_FILES)

$(MO_FILES): %.mo: %.po
	@command -v msgfmt >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installation de : gettext"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gettext >/dev/null; \
	  else echo "Il manque : gettext — installez-le (apt-get install gettext) puis relancez." >&2; exit 1; fi; }
	msgfmt --check --output-file $@ $<

# After adding or changing a French string: gathers every translatable string of the sources into
# the English catalogues (new entries empty, changed ones fuzzy); translate them, then `make
# messages`. tests/test_i18n.py runs the same gathering and fails while a catalogue lags behind.
MAKEMESSAGES_OPTIONS := --locale en --add-location file --no-obsolete \
  --ignore=.venv --ignore=bench --ignore=tests --ignore=staticfiles --ignore=media
catalogues: install
	DEBUG=true $(PY) manage.py makemessages --domain django $(MAKEMESSAGES_OPTIONS)
	DEBUG=true $(PY) manage.py makemessages --domain djangojs $(MAKEMESSAGES_OPTIONS)

# The local demo: DEBUG on here only (settings default to off, as a server must run).
run: install messages
	DEBUG=true $(PY) manage.py migrate --no-input
	DEBUG=true $(PY) manage.py demo
	DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

# Chromium (browser tests), sqlite3 (the export benchmark's floor, smoke-tested), PostgreSQL
# (second test run), redis-server (the shared cache's outage tests), nginx (the cluster load
# test's configuration, checked by `nginx -t`) and certutil from libnss3-tools (a browser that
# trusts `make serve-lan`'s certificate authority) from Debian's packages when missing.
system-test-deps:
	@need=""; \
	command -v chromium >/dev/null || need="$$need chromium"; \
	command -v sqlite3 >/dev/null || need="$$need sqlite3"; \
	command -v redis-server >/dev/null || need="$$need redis-server"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need="$$need nginx"; \
	command -v certutil >/dev/null || need="$$need libnss3-tools"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || need="$$need postgresql"; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installation de :$$need"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need >/dev/null; \
	  else echo "Il manque :$$need — installez-les (apt-get install$$need) puis relancez." >&2; exit 1; fi; \
	fi

test: install-dev messages system-test-deps
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	@echo "== Suite complète sur SQLite =="
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres:
	@echo "== Suite complète sur PostgreSQL (serveur jetable) =="
	tests/with_postgres.sh $(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: install
	DEBUG=false SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  ALLOWED_HOSTS=naumur.example.org CSRF_TRUSTED_ORIGINS=https://naumur.example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles

# Production (README « Mise en production »): settings from the environment or a .env file
# (template: docs/env.example). Refuses to start when `check --deploy` warns (DEPLOY_CHECK_LEVEL=ERROR
# to relax), collects static files for whitenoise, migrates, then runs gunicorn on BIND with
# WEB_CONCURRENCY workers (default 2 x cores + 1), access log on stdout, GUNICORN_TIMEOUT seconds
# per request (an XLSX export of a million calls takes about 50 s; docs/nginx.conf waits 120 s).
# Any other gunicorn setting through GUNICORN_CMD_ARGS, e.g. "--threads 4".
BIND ?= 127.0.0.1:8000
GUNICORN_TIMEOUT ?= 120
WEB_CONCURRENCY ?= $(shell echo $$(( 2 * $$(nproc) + 1 )))
DEPLOY_CHECK_LEVEL ?= WARNING
serve-prod: install messages
	$(PY) manage.py check --deploy --fail-level $(DEPLOY_CHECK_LEVEL)
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py migrate --no-input
	$(PY) manage.py createcachetable
	exec $(VENV)/bin/gunicorn config.wsgi --bind "$(BIND)" --workers "$(WEB_CONCURRENCY)" \
	  --access-logfile - --max-requests 2000 --max-requests-jitter 200 --timeout "$(GUNICORN_TIMEOUT)"

# The office network (README « Réseau du bureau ») : HTTPS on this machine's LAN address with a
# certificate authority made here once (.lan/), so the other desks may use the microphone.
# LAN_ADDRESS, LAN_PORT (8443), LAN_NAMES (extra names, comma-separated), LAN_DIR (.lan).
serve-lan: install messages
	$(PY) -m config.lan

$(VENV)/.installed-bench: $(VENV)/.installed-dev pyproject.toml
	$(UV) pip install -q --python $(PY) -r pyproject.toml --extra dev --extra bench
	@touch $@

# Benchmarks (not part of the test suite): each bench/*.py prints its figures; PostgreSQL
# benches get BENCH_PG_URL pointing at a throwaway server. Figures go to docs/PERFORMANCE.md.
bench: $(VENV)/.installed-bench system-test-deps
	tests/with_postgres.sh bash -c 'export BENCH_PG_URL="$$DATABASE_URL"; unset DATABASE_URL; \
	  for f in $(or $(BENCH),bench/claim.py bench/import.py bench/export.py bench/dashboard.py); do \
	    [ -f "$$f" ] || continue; echo "== $$f =="; $(PY) "$$f" || exit 1; done'

# Load test (docs/PERFORMANCE.md, « Load test »): gunicorn as `make serve-prod` runs it, a throwaway
# PostgreSQL, 50 simulated operators, 3 supervisors polling the dashboard and one exporting, then
# checks of the database. Options through LOAD_ARGS, e.g. LOAD_ARGS="--run-time 120 --keep".
load: $(VENV)/.installed-bench system-test-deps
	tests/with_postgres.sh bash -c 'export BENCH_PG_URL="$$DATABASE_URL"; unset DATABASE_URL; \
	  $(PY) bench/load.py $(LOAD_ARGS)'

# Several app servers (docs/deploy.md; docs/PERFORMANCE.md, « Several app servers »): the same
# load through nginx, round-robin over two gunicorn servers sharing the throwaway PostgreSQL, S3
# (moto's server) and Redis, with one app server killed and restarted, PostgreSQL stopped 10 s
# and Redis stopped 20 s during the run. Options through LOAD_ARGS, e.g. "--operators 20",
# "--instances 3", "--no-faults", "--keep".
load-cluster: $(VENV)/.installed-bench system-test-deps
	tests/with_postgres.sh bash -c 'export BENCH_PG_URL="$$DATABASE_URL"; unset DATABASE_URL; \
	  $(PY) bench/cluster.py $(LOAD_ARGS)'
