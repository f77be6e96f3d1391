"""Replays this host's webhook spool from the process that wrote it.

The spool is on the web host's local disk, where RQ workers on other machines cannot see it, so
the web process that spools a delivery starts (once) a daemon thread that replays the spool every
few seconds until it is empty, backing off while the database stays down. The periodic
`replay_spool` job remains as a backstop for single-host deployments and dead processes.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 5.0
MAX_DELAY_SECONDS = 60.0
THREAD_NAME = "tastemaker-webhook-replay"
_lock = threading.Lock()
_threads: dict[int, tuple[threading.Thread, threading.Event]] = {}


def ensure_replayer(app: Flask, *, interval: float = INTERVAL_SECONDS) -> threading.Thread:
    with _lock:
        running = _threads.get(id(app))
        if running is None or not running[0].is_alive():
            stop = threading.Event()
            thread = threading.Thread(
                target=_replay_until_empty,
                args=(app, interval, stop),
                name=THREAD_NAME,
                daemon=True,
            )
            running = (thread, stop)
            _threads[id(app)] = running
            thread.start()
        return running[0]


def stop_replayers(timeout: float = 10.0) -> None:
    """Stop every replayer thread of this process and wait for them (tests, process exit): a
    daemon thread left running logs into streams that are already closed."""
    with _lock:
        running = list(_threads.values())
        _threads.clear()
    for _thread, stop in running:
        stop.set()
    for thread, _stop in running:
        thread.join(timeout)


atexit.register(stop_replayers)


def _replay_until_empty(app: Flask, interval: float, stop: threading.Event) -> None:
    from plugin.db import get_db
    from plugin.extensions import connectors, credentials
    from plugin.ingest.inbox import replay_spooled, spool_for
    from plugin.ingest.stats import stats_for

    spool = spool_for(app)
    delay = interval
    while spool.pending_segments() and not stop.wait(delay):
        try:
            with app.app_context():
                session = get_db(app).session()
                recorded = replay_spooled(
                    session, spool, connectors(app), credentials(app), stats_for(app)
                )
        except (SQLAlchemyError, OSError) as exc:
            delay = min(delay * 2, MAX_DELAY_SECONDS)
            logger.warning("webhook spool replay failed, retrying in %.0fs: %s", delay, exc)
            continue
        delay = interval
        if recorded:
            logger.info("replayed %d spooled webhook deliveries", recorded)
