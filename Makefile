# Two commands on a fresh machine with Python 3.11:  make run  |  make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Extra databases the suite also runs on, e.g.
#   make test TEST_DATABASE_URLS="postgres://postgres@127.0.0.1:5432/autodialer mysql://root@127.0.0.1:3306/autodialer"
TEST_DATABASE_URLS ?=
PYTEST_ARGS ?=

.PHONY: run test lint venv bench clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py ensure_demo_admin
	@echo "Serving on http://127.0.0.1:8000/ (Ctrl-C to stop)"
	DEBUG=true $(PY) manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(PY) -m ruff check .

test: $(STAMP) lint
	@echo "=== test suite on SQLite ==="
	env -u DATABASE_URL DEBUG=false SECRET_KEY=test $(PY) -m pytest $(PYTEST_ARGS)
	@for url in $(TEST_DATABASE_URLS); do \
	  echo "=== test suite on $$url ==="; \
	  DATABASE_URL=$$url DEBUG=false SECRET_KEY=test $(PY) -m pytest $(PYTEST_ARGS) || exit 1; \
	done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
