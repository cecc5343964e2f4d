# Two commands on a fresh machine with Python 3.11:  make run  |  make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Extra databases the suite also runs on, e.g.
#   make test TEST_DATABASE_URLS="postgres://postgres@127.0.0.1:5432/autodialer mysql://root@127.0.0.1:3306/autodialer"
TEST_DATABASE_URLS ?=
PYTEST_ARGS ?=
# The real-Asterisk runtime's installer (../shared/asterisk/runtime, next to the clone; from a
# worktree one level deeper, ../../shared). ASTERISK_RUNTIME_DIR overrides the search.
ASTERISK_RUNTIME_DIR ?= $(patsubst %/install.sh,%,$(firstword $(wildcard \
	../shared/asterisk/runtime/install.sh ../../shared/asterisk/runtime/install.sh)))

# OS packages a fresh Debian/Ubuntu machine lacks: mysqlclient's build needs the first three,
# the browser tests need Debian's Chromium. Installed with apt-get (sudo when not root).
BUILD_PACKAGES := default-libmysqlclient-dev pkg-config build-essential
TEST_PACKAGES  := chromium

define ensure_os_packages
	@if command -v dpkg >/dev/null; then \
	  missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    if ! command -v apt-get >/dev/null; then echo "Please install:$$missing"; exit 1; fi; \
	    SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	    echo "Installing OS packages:$$missing"; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	  fi; \
	fi
endef

.PHONY: run test test-integration asterisk-runtime lint venv bench clean os-packages

$(STAMP): requirements.txt requirements-dev.txt
	$(call ensure_os_packages,$(BUILD_PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

os-packages:
	$(call ensure_os_packages,$(BUILD_PACKAGES) $(TEST_PACKAGES))

run: $(STAMP)
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py ensure_demo_admin
	@echo "Serving on http://127.0.0.1:8000/ (Ctrl-C to stop)"
	@# The background-job worker (lead imports) runs next to the server and stops with it.
	DEBUG=true $(PY) manage.py db_worker & worker=$$!; trap "kill $$worker" EXIT INT TERM; \
	  DEBUG=true $(PY) manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) scripts/check_imports.py

test: $(STAMP) lint
	$(call ensure_os_packages,$(TEST_PACKAGES))
	@# SQLite and every database of TEST_DATABASE_URLS at the same time (scripts/test_suites.sh).
	PYTHON=$(PY) PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_suites.sh unit sqlite $(TEST_DATABASE_URLS)

# The real Asterisk 22 (installed into /opt/asterisk) and sipp, for the integration suite.
asterisk-runtime:
	@if [ -n "$(ASTERISK_RUNTIME_DIR)" ] && [ -f "$(ASTERISK_RUNTIME_DIR)/install.sh" ]; then \
	  bash "$(ASTERISK_RUNTIME_DIR)/install.sh"; \
	elif [ -x /opt/asterisk/sbin/asterisk ] && command -v sipp >/dev/null; then \
	  echo "No runtime installer found; using the Asterisk already in /opt/asterisk"; \
	else \
	  echo "No Asterisk runtime: set ASTERISK_RUNTIME_DIR to the directory of its install.sh"; \
	  exit 1; \
	fi

# The integration suite (telephony/tests/integration) on a real Asterisk, on each database of
# TEST_DATABASE_URLS (Asterisk reads PostgreSQL or MariaDB, never SQLite).
test-integration: $(STAMP) asterisk-runtime
	@if [ -z "$(TEST_DATABASE_URLS)" ]; then \
	  echo "make test-integration needs TEST_DATABASE_URLS (PostgreSQL and/or MariaDB URLs)"; \
	  exit 1; \
	fi
	@# Every database at the same time: each run starts its own Asterisk on free ports.
	PYTHON=$(PY) PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_suites.sh integration $(TEST_DATABASE_URLS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
