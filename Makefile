# Local entry points; CI calls `make lint`, `make test` and `make schemathesis` from .ci/run.
PY = .venv/bin/python
PIP = .venv/bin/pip
RUFF = .venv/bin/ruff
ARGS ?=
PORT ?= 8000

.PHONY: run demo test schemathesis lint format bench bench-scale serve worker

# A real target: re-run whenever a requirements file is newer than the venv.
# On a failed install the venv's date is reset so the next `make` tries again.
.venv: requirements.txt requirements-dev.txt
	python3 -m venv .venv
	$(PIP) install -r requirements-dev.txt || { touch -d @0 .venv; exit 1; }
	touch .venv

# Development server with the embedded defaults (SQLite, file cache, eager Celery).
# Cookies are not marked Secure because this serves plain http; --insecure serves
# the admin's static files although DEBUG is off.
# E-mail links point at this server (BARONG_DOMAIN) unless told otherwise.
run: .venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_levels
	$(PY) manage.py seed_permissions
	BARONG_COOKIE_SECURE=$${BARONG_COOKIE_SECURE:-false} \
	BARONG_DOMAIN=$${BARONG_DOMAIN:-http://127.0.0.1:$(PORT)} \
		$(PY) manage.py runserver --insecure 127.0.0.1:$(PORT)

# Demo data for the back-office: an operator, users at levels 1-3, a pending KYC case.
demo: .venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_levels
	$(PY) manage.py seed_permissions
	$(PY) manage.py seed_demo

test: .venv
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder $(ARGS)

# Generated requests against the OpenAPI document (schemathesis): no 5xx, answers as
# documented. A bounded budget per operation; CI runs it after `make test`.
schemathesis: .venv
	BARONG_SCHEMATHESIS_EXAMPLES=$${BARONG_SCHEMATHESIS_EXAMPLES:-5} \
		$(PY) -m pytest -n 2 -q tests/ops/test_schema_conformance.py $(ARGS)

lint: .venv
	$(RUFF) check . && $(RUFF) format --check . && .venv/bin/lint-imports

format: .venv
	$(RUFF) format . && $(RUFF) check --fix .

bench: .venv
	bash bench/run

# A million users in a throwaway PostgreSQL: admin lists, back-office, metrics, resync.
bench-scale: .venv
	bash bench/scale/run

# Production-like: a real application server; configure it through the environment.
serve: .venv
	.venv/bin/gunicorn barong.wsgi:application -b 127.0.0.1:8000 -w 2

worker: .venv
	.venv/bin/celery -A barong worker -B -l info
