# Local entry points; CI calls `make lint`, `make test`, `make schemathesis` and
# `make cluster-test` from .ci/run.
PY = .venv/bin/python
PIP = .venv/bin/pip
RUFF = .venv/bin/ruff
ARGS ?=
PORT ?= 8000

.PHONY: run demo test schemathesis lint format bench bench-scale serve worker
.PHONY: cluster cluster-stop cluster-test bench-cluster cluster-packages

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

# ---------------------------------------------------------------- the production topology
# PostgreSQL primary + streaming replica, PgBouncer (transaction mode) before each, Redis
# primary + replica + three Sentinels, HAProxy (Redis primary, two gunicorn nodes),
# RabbitMQ, two Celery workers (one with beat): loopback only, free ports, data under
# var/cluster/, configuration from ops/cluster/ (docs/operations.md, "Scaling out").
CLUSTER_DEBS = postgresql-15 postgresql-client-15 pgbouncer redis-server redis-sentinel \
	haproxy rabbitmq-server
# The per-address limits the cluster tests loosen: every client of theirs is 127.0.0.1. A
# replica may lag 8 s, not 5, before the operators' reads leave it: the test that reads a
# row not yet replayed must do so before the limit, also on a crowded machine.
CLUSTER_TEST_ENV = --env BARONG_RATE_SIGNUP_IP=100000/3600 --env BARONG_RATE_LOGIN_IP=100000/300 \
	--env DATABASE_REPLICA_MAX_LAG=8

# Installs what is missing (as root, as .ci/run does): no package may start its own
# service meanwhile, so a policy-rc.d refuses it for the length of the install.
cluster-packages:
	@missing=""; for p in $(CLUSTER_DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		added=""; \
		if [ ! -e /usr/sbin/policy-rc.d ]; then \
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && added=1; \
		fi; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		rc=$$?; [ -z "$$added" ] || rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi

cluster: .venv cluster-packages
	$(PY) -m ops.cluster start $(ARGS)

cluster-stop:
	$(PY) -m ops.cluster stop

# A fresh cluster, the cluster tests (journey and faults) against it, then stopped:
# exit 0 only if all passed. The measured numbers are printed at the end.
cluster-test: .venv cluster-packages
	@$(PY) -m ops.cluster start $(CLUSTER_TEST_ENV) || exit 1; \
	BARONG_CLUSTER_DIR=$(CURDIR)/var/cluster $(PY) -m pytest -p no:xdist -m cluster \
		tests/cluster -v $(ARGS); rc=$$?; \
	echo "--- measured"; cat var/cluster/measurements.txt 2>/dev/null; \
	$(PY) -m ops.cluster stop; exit $$rc

# Authz and logins through HAProxy + PgBouncer against one gunicorn direct (same run).
bench-cluster: .venv cluster-packages
	bash bench/cluster/run
