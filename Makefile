# Wangnong — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wangnong
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run install test lint check bench services browser-deps clean messages

$(BIN)/.installed: pyproject.toml requirements.lock
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	@touch $@

install: $(BIN)/.installed

## make run: install, migrate the embedded SQLite database, load the demo, serve.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

services:
	@scripts/ensure-services.sh

browser-deps:
	@scripts/ensure-browser.sh
	@test -f node_modules/axe-core/axe.min.js || (npm install --no-save --no-audit --no-fund axe-core@4.14.1 >/dev/null)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

## make test: lint, Django checks, then the whole pytest suite on PostgreSQL and Redis.
test: install services browser-deps lint check
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SERVE_MEDIA=1 \
	STATICFILES_STORAGE=django.contrib.staticfiles.storage.StaticFilesStorage $(BIN)/pytest

messages: install
	$(BIN)/python manage.py makemessages -l en --ignore=.venv --ignore=var --ignore=node_modules --ignore=tests --ignore=bench --ignore=static_collected
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=var --ignore=node_modules

clean:
	rm -rf var/wangnong.sqlite3 var/media var/static

## make bench: the station portal benchmark on its own PostgreSQL database
## (5,000 residents, 20,000 orders); results in bench/results/.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wangnong_bench
bench: install services
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'wangnong_bench'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U postgres wangnong_bench
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=redis://127.0.0.1:6379/10 \
	STATICFILES_STORAGE=django.contrib.staticfiles.storage.StaticFilesStorage sh -c '\
	  $(BIN)/python manage.py migrate --noinput && \
	  $(BIN)/python bench/station_portal.py --write bench/results/station-portal-$$(date +%F).md'
