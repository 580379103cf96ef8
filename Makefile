# Wangnong — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wangnong
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run install test lint check bench bench-all bench-deps services browser-deps clean messages

$(BIN)/.installed: pyproject.toml requirements.lock
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	@touch $@

install: $(BIN)/.installed

## make run: install, migrate the embedded SQLite database, load the demo, then
## serve, with the carrier simulator (logistics/simulator.py) as a second process
## on loopback and celery beat's periodic tasks in runserver's own process
## (config/inprocess_beat.py). Ctrl-C stops both; a simulator already answering
## on SIM_PORT (another `make run`) is used instead of starting a second one.
## Without STRIPE_SECRET_KEY in the environment, online payment (WeChat Pay,
## Alipay, card) goes to the local Stripe simulator (shop/payment/
## stripe_simulator.py) on STRIPE_SIM_PORT, with test keys, as a third process.
SIM_PORT ?= 8765
SIM_ADVANCE ?= 20
SIM_URL := http://127.0.0.1:$(SIM_PORT)
run: export WANGNONG_DEMO_CARRIER_URL = $(SIM_URL)
run: export WANGNONG_SITE_URL = http://$(HOST):$(PORT)
# No broker: a failed hand-off waits for the sweep, so sweep idle rows after a minute.
run: export WANGNONG_OUTBOX_RESEND_AFTER = 60
STRIPE_SIM_PORT ?= 12111
STRIPE_SIM_URL := http://127.0.0.1:$(STRIPE_SIM_PORT)
ifeq ($(STRIPE_SECRET_KEY),)
STRIPE_SIM := 1
run: export STRIPE_SECRET_KEY = sk_test_wangnong
run: export STRIPE_PUBLISHABLE_KEY = pk_test_wangnong
run: export STRIPE_WEBHOOK_SECRET = whsec_test_wangnong
run: export STRIPE_API_BASE = $(STRIPE_SIM_URL)
endif
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@sim=; pay=; trap 'test -z "$$sim" || kill $$sim 2>/dev/null; test -z "$$pay" || kill $$pay 2>/dev/null' EXIT; trap 'exit 130' INT TERM HUP; \
	if $(BIN)/python -c "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('$(SIM_URL)/_control/stats', timeout=2)" 2>/dev/null; then \
	  echo "Carrier simulator already running on $(SIM_URL): using it."; \
	else \
	  $(BIN)/python manage.py carrier_simulator --port $(SIM_PORT) --auto-advance $(SIM_ADVANCE) & sim=$$!; \
	fi; \
	if [ -n "$(STRIPE_SIM)" ]; then \
	  if $(BIN)/python -c "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('$(STRIPE_SIM_URL)/_control/state', timeout=2)" 2>/dev/null; then \
	    echo "Stripe simulator already running on $(STRIPE_SIM_URL): using it."; \
	  else \
	    $(BIN)/python manage.py stripe_simulator --port $(STRIPE_SIM_PORT) & pay=$$!; \
	  fi; \
	fi; \
	DJANGO_DEBUG=1 WANGNONG_INPROCESS_BEAT=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

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
	rm -rf var/wangnong.sqlite3 var/wangnong.sqlite3-wal var/wangnong.sqlite3-shm var/media var/static

## make bench (issue 9, at most 20 minutes): the city-scale dataset
## (bench/dataset.py, loaded once into BENCH_LOAD_DATABASE_URL and reused),
## the stock Oscar shop built from it (bench/stock_oscar.py), then the load run
## (bench/load.py: gunicorn + whitenoise, locust from .venv-bench, the trivial
## view and stock Oscar as baselines, page weight): bench/results/<date>.json
## and .md. BENCH_LOAD_REDIS_URL's database is flushed. BENCH_SCALE=small for
## a quick run.
BENCH_LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wangnong_load
BENCH_STOCK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wangnong_stock
BENCH_LOAD_REDIS_URL ?= redis://127.0.0.1:6379/9
BENCH_SCALE ?= full
BENCH_MANIFEST ?= var/bench/dataset.json
BENCH_FLAGS ?=
bench: install services browser-deps bench-deps
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(notdir $(BENCH_LOAD_DATABASE_URL))'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U postgres $(notdir $(BENCH_LOAD_DATABASE_URL))
	DATABASE_URL=$(BENCH_LOAD_DATABASE_URL) REDIS_URL=$(BENCH_LOAD_REDIS_URL) \
	STATICFILES_STORAGE=django.contrib.staticfiles.storage.StaticFilesStorage sh -c '\
	  $(BIN)/python manage.py migrate --noinput && \
	  $(BIN)/python bench/dataset.py --scale $(BENCH_SCALE) --if-missing --manifest $(BENCH_MANIFEST)'
	$(BIN)/python bench/stock_oscar.py --source $(BENCH_LOAD_DATABASE_URL) \
	  --database $(BENCH_STOCK_DATABASE_URL) --if-missing
	DATABASE_URL=$(BENCH_LOAD_DATABASE_URL) REDIS_URL=$(BENCH_LOAD_REDIS_URL) \
	  $(BIN)/python bench/load.py --stock-database $(BENCH_STOCK_DATABASE_URL) \
	    --manifest $(BENCH_MANIFEST) $(BENCH_FLAGS)

## The load tool's own venv (locust, pinned in bench/requirements.txt).
bench-deps: .venv-bench/.installed
.venv-bench/.installed: bench/requirements.txt
	@test -d .venv-bench || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install -q -r bench/requirements.txt
	@touch $@

## make bench-all: make bench, then on their own PostgreSQL database the station portal benchmark
## (5,000 residents, 20,000 orders) and the logistics hand-off reliability run
## (1,000 shipments from 300 orders, a failing carrier simulator, Celery workers
## on a Redis broker — BENCH_BROKER_URL is flushed — one killed midway) and the
## coverage and sales statistics (100,000 orders, every administrative village:
## the snapshot task and the statistics page); results in bench/results/.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wangnong_bench
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/7
bench-all: bench
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'wangnong_bench'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U postgres wangnong_bench
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=redis://127.0.0.1:6379/10 \
	STATICFILES_STORAGE=django.contrib.staticfiles.storage.StaticFilesStorage sh -c '\
	  $(BIN)/python manage.py migrate --noinput && \
	  $(BIN)/python bench/station_portal.py --write bench/results/station-portal-$$(date +%F).md && \
	  $(BIN)/python bench/logistics_reliability.py --broker $(BENCH_BROKER_URL) \
	    --write bench/results/logistics-reliability-$$(date +%F).md && \
	  $(BIN)/python bench/cms_statistics.py --orders 100000 \
	    --write bench/results/cms-statistics-$$(date +%F).md'
