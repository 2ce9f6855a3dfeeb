"""Pointing this process's Celery app at a broker a test owns, and back, leaving nothing behind.

The app keeps a connection pool and a producer pool (``app.pool``, ``app.amqp.producer_pool``)
built from the broker URL of its first publish, and kombu keeps every pool it built in a
registry of its own: changing ``app.conf.broker_url`` alone leaves both publishing to the
old broker. A test that starts its own Redis and points the app at it would leave every
later ``.delay()`` of its xdist worker (the relay's wake-up after a commit, among them)
going to that stopped server. ``celery_broker`` closes both pools on the way in and on
the way out; ``celery_broker_leaks`` is what the suite checks after every test.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from kombu import pools


def _pool_urls(app) -> list[str]:
    """The broker URLs this app's pools were built for (none built: none)."""
    urls = []
    if app._pool is not None:
        urls.append(app._pool.connection.as_uri(include_password=True))
    producers = getattr(app.__dict__.get("amqp"), "_producer_pool", None)
    if producers is not None:
        urls.append(producers.connections.connection.as_uri(include_password=True))
    return urls


def celery_pools_close(app) -> None:
    """Close every pooled broker connection of this process; the next publish opens anew."""
    pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def celery_broker(url: str) -> Iterator:
    """Inside the block, ``.delay()`` publishes to ``url`` for real (not eagerly)."""
    from barong.celery import app

    previous = (app.conf.broker_url, app.conf.task_always_eager)
    celery_pools_close(app)
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    try:
        yield app
    finally:
        celery_pools_close(app)
        app.conf.broker_url, app.conf.task_always_eager = previous


def celery_broker_leaks(app, broker_url: str) -> list[str]:
    """What still points anywhere but ``broker_url``: the setting or a pool built for another."""
    from kombu import Connection

    expected = Connection(broker_url).as_uri(include_password=True)
    leaks = []
    # Set on the app itself; a test's own Django setting (the ``settings`` fixture), which
    # app.conf reads through, is put back by that fixture and is no leak.
    explicit = app.conf.changes.get("broker_url")
    if explicit is not None and explicit != broker_url:
        leaks.append(f"app.conf.broker_url is {explicit!r}")
    leaks += [
        f"a pool publishes to {url}" for url in sorted(set(_pool_urls(app))) if url != expected
    ]
    return leaks
