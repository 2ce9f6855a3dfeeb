# Local entry points; CI calls `make lint` and `make test` from .ci/run.
PY = .venv/bin/python
PIP = .venv/bin/pip
RUFF = .venv/bin/ruff
ARGS ?=

.PHONY: run test lint format bench bench-scale serve worker

# A real target: re-run whenever a requirements file is newer than the venv.
# On a failed install the venv's date is reset so the next `make` tries again.
.venv: requirements.txt requirements-dev.txt
	python3 -m venv .venv
	$(PIP) install -r requirements-dev.txt || { touch -d @0 .venv; exit 1; }
	touch .venv

# Development server with the embedded defaults (SQLite, file cache, eager Celery).
# Cookies are not marked Secure because this serves plain http; --insecure serves
# the admin's static files although DEBUG is off.
run: .venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_levels
	$(PY) manage.py seed_permissions
	BARONG_COOKIE_SECURE=$${BARONG_COOKIE_SECURE:-false} \
		$(PY) manage.py runserver --insecure 127.0.0.1:8000

test: .venv
	$(PY) -m pytest -n 2 --dist loadfile $(ARGS)

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
