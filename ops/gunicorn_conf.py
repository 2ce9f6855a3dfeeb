"""gunicorn settings for ``/metrics`` with several workers (docs/operations.md).

``gunicorn barong.wsgi:application -c ops/gunicorn_conf.py`` with ``PROMETHEUS_MULTIPROC_DIR``
set to an empty directory: each worker writes its metrics into files there and any
worker's ``/metrics`` adds them all up. A worker that exits is marked dead so its
live gauges stop counting (its counters stay in the sums, as Prometheus expects).
"""

import os

from prometheus_client import multiprocess


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
