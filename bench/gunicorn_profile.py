"""gunicorn config for ``BENCH_PROFILE=1``: each worker profiles itself with cProfile.

The profile covers every request the worker serves and is written when it exits;
bench/run prints the merged statistics. Numbers measured while profiling are slower.
"""

import cProfile
import os

_profiles: dict[int, cProfile.Profile] = {}


def post_fork(server, worker):
    profile = cProfile.Profile()
    _profiles[worker.pid] = profile
    profile.enable()


def worker_exit(server, worker):
    profile = _profiles.pop(worker.pid, None)
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.path.join(os.environ["BENCH_PROFILE_DIR"], f"{worker.pid}.prof"))
