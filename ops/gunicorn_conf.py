"""gunicorn settings for production (docs/operations.md): ``make serve`` uses them.

``gunicorn barong.wsgi:application -c ops/gunicorn_conf.py -b HOST:PORT``:

- one-thread ``gthread`` workers with keep-alive, one per core (``WEB_CONCURRENCY`` or
  ``-w`` for another number): a gateway's pool of idle keep-alive connections does not
  hold every worker, and one thread per worker keeps the tail short (docs/BENCHMARKS.md);
- ``/metrics`` adds up every worker: each writes its metrics into files in
  ``PROMETHEUS_MULTIPROC_DIR`` (default ``$BARONG_DATA_DIR/prometheus``), emptied of
  the previous run's files when gunicorn starts; a worker that exits is marked dead so
  its live gauges stop counting (its counters stay in the sums, as Prometheus expects).

Options given on the command line win over these.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Before prometheus_client is imported: it picks its multiprocess mode at import time,
# here in the master, and the workers inherit that choice when they fork.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    data_dir = Path(os.environ.get("BARONG_DATA_DIR") or ROOT / "var")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(data_dir / "prometheus")

from prometheus_client import multiprocess  # noqa: E402

worker_class = "gthread"
threads = 1
keepalive = 75  # seconds; above the idle timeout of the gateway's upstream connections
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)


def on_starting(server) -> None:
    """An empty metrics directory: files left by the previous run would be added up again.

    Only prometheus_client's own ``*.db`` files are removed, whatever the directory holds.
    """
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    multiprocess.mark_process_dead(worker.pid)
