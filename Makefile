# Two commands on a fresh machine with Python 3.11:  make run  |  make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Extra databases the suite also runs on, e.g.
#   make test TEST_DATABASE_URLS="postgres://postgres@127.0.0.1:5432/autodialer mysql://root@127.0.0.1:3306/autodialer"
TEST_DATABASE_URLS ?=
PYTEST_ARGS ?=

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

.PHONY: run test lint venv bench clean os-packages

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
	DEBUG=true $(PY) manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(PY) -m ruff check .

test: $(STAMP) lint
	$(call ensure_os_packages,$(TEST_PACKAGES))
	@echo "=== test suite on SQLite ==="
	env -u DATABASE_URL DEBUG=false SECRET_KEY=test $(PY) -m pytest $(PYTEST_ARGS)
	@for url in $(TEST_DATABASE_URLS); do \
	  echo "=== test suite on $$url ==="; \
	  DATABASE_URL=$$url DEBUG=false SECRET_KEY=test $(PY) -m pytest $(PYTEST_ARGS) || exit 1; \
	done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
