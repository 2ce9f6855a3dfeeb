# Local entry points; CI calls `make .venv`, `make lint`, `make test`, `make schemathesis`
# and `make cluster-test` from .ci/run.
PY = .venv/bin/python
PIP = .venv/bin/pip
RUFF = .venv/bin/ruff
ARGS ?=
PORT ?= 8000
HOST ?= 127.0.0.1
# What serving needs (requirements.txt), and that plus the test tools (requirements-dev.txt):
# stamps inside .venv, so `rm -rf .venv` starts over. Serving targets install only the first,
# so a first `make run` does not wait for the browsers' driver and the test tools.
SERVE_DEPS = .venv/.requirements
DEV_DEPS = .venv/.requirements-dev

# The venv's own pip: a current one installs the requirements in about two thirds of the
# time of the pip that Python 3.11 bundles.
PIP_VERSION = 26.3

.PHONY: run demo test schemathesis lint format bench bench-scale serve worker install mailsink .venv
.PHONY: cluster cluster-stop cluster-test bench-cluster cluster-packages

# Where this Python has pip, it puts PIP_VERSION into a venv made without one (ensurepip's
# install of its bundled pip and setuptools takes longer than that); elsewhere ensurepip
# bootstraps and the bundled pip upgrades itself.
$(PIP):
	python3 -m venv --without-pip .venv
	python3 -m pip --python $(PY) install -q --no-compile pip==$(PIP_VERSION) \
		|| { $(PY) -m ensurepip --default-pip >/dev/null && $(PY) -m pip install -q --no-compile pip==$(PIP_VERSION); }

# Real targets: re-run whenever a requirements file is newer than the stamp; a failed
# install leaves the stamp as it was, so the next `make` tries again. --no-compile: Python
# compiles the modules a process imports when it first imports them, not all of them now
# (a third of a first install's time).
$(SERVE_DEPS): requirements.txt | $(PIP)
	$(PIP) install --no-compile -r requirements.txt
	touch $@

$(DEV_DEPS): requirements.txt requirements-dev.txt | $(PIP)
	$(PIP) install --no-compile -r requirements-dev.txt
	touch $@ $(SERVE_DEPS)

# The whole development environment (CI's first step).
.venv: $(DEV_DEPS)

# Only what serving needs: `make install` on a production host.
install: $(SERVE_DEPS)

# Static files for WhiteNoise: hashed, compressed copies in DJANGO_STATIC_ROOT.
COLLECTSTATIC = $(PY) manage.py collectstatic --noinput -v 0

# Development server with the embedded defaults (SQLite, file cache, eager Celery).
# `prepare` migrates, seeds levels and permissions and collects the static files in one
# process (ops/management/commands/prepare.py). Cookies are not marked Secure because this
# serves plain http; static files come from WhiteNoise as under gunicorn. E-mail links
# point at this server (BARONG_DOMAIN) unless told otherwise. migrate has run the system
# checks already.
run: $(SERVE_DEPS)
	$(PY) manage.py prepare
	BARONG_COOKIE_SECURE=$${BARONG_COOKIE_SECURE:-false} \
	BARONG_DOMAIN=$${BARONG_DOMAIN:-http://127.0.0.1:$(PORT)} \
		$(PY) manage.py runserver --nostatic --skip-checks $(HOST):$(PORT)

# Demo data for the back-office: an operator, users at levels 1-3, a pending KYC case.
# Its e-mails go to files, not to the console; the logins are printed last.
demo: $(SERVE_DEPS)
	$(PY) manage.py prepare --no-static
	BARONG_DOMAIN=$${BARONG_DOMAIN:-http://127.0.0.1:$(PORT)} $(PY) manage.py seed_demo

# Bytecode goes to var/pycache (PYTHONPYCACHEPREFIX), not next to the sources, and is
# written even where PYTHONDONTWRITEBYTECODE is set: each xdist worker and each Python the
# tests start (manage.py, gunicorn, Celery) then compiles Django and the apps once per
# checkout instead of once per process (about 2 s of CPU each).
PYCACHE ?= $(CURDIR)/var/pycache

test: .venv
	PYTHONPYCACHEPREFIX=$${PYTHONPYCACHEPREFIX:-$(PYCACHE)} PYTHONDONTWRITEBYTECODE= \
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

# USERS (default a million) in a throwaway PostgreSQL, loaded as a Barong 2.4 database and
# upgraded: admin lists, back-office, metrics, resync, logins, sign-ups, sizes, retention.
bench-scale: .venv
	BENCH_SCALE_USERS=$(or $(USERS),1000000) bash bench/scale/run

# Production: gunicorn with ops/gunicorn_conf.py (one-thread gthread workers, keep-alive,
# /metrics across workers) on HOST:PORT, static files collected first and served by
# WhiteNoise. Configure it through the environment (README, "Running it for real").
serve: $(SERVE_DEPS)
	$(COLLECTSTATIC)
	.venv/bin/gunicorn barong.wsgi:application -c ops/gunicorn_conf.py -b $(HOST):$(PORT)

worker: $(SERVE_DEPS)
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

# A local SMTP server (aiosmtpd) that prints every message it receives, where production
# mode sends mail by default (localhost, EMAIL_PORT 1025): for trying production mode on one
# machine (README, "Trying production mode on one machine").
mailsink: $(DEV_DEPS)
	$(PY) -m aiosmtpd -n -l 127.0.0.1:$${EMAIL_PORT:-1025}
