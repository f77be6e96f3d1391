"""Click flush: the spool the redirect writes, replayed into `clicks` rows.

Run every few seconds from PERIODIC by the worker (the embedded mode runs the same flush in a
thread of each serving process, see plugin.services.clicks). Idempotent (ON CONFLICT on
click_uid) and safe to run concurrently (one flush per host at a time; another returns 0).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from plugin.db import get_db
from plugin.services.clicks import flush_spool, spool_for
from workers.registry import job

logger = logging.getLogger(__name__)


FLUSH_NICENESS = 19
# Transactions of 1,000 clicks, each followed by a rest as long as itself, so the flush never
# takes more than half a core in one burst. Smaller batches pay the commit (a WAL flush) more
# often: measured, 250 per batch stored ~40% fewer clicks per second than 1,000.
PACED_BATCH = 1000
REST_RATIO = 1.0

T = TypeVar("T")


def at_low_priority(work: Callable[[], T]) -> T:
    """Run `work` in a thread of its own at the lowest CPU priority, and wait for it.

    The flush is throughput work sharing the host's cores with latency work (the redirect): at
    normal priority its bursts lengthened the redirect's p99 at 3,000 requests/s several times
    over. Linux keeps a nice value per thread, so only this short-lived thread is lowered; the
    worker process, which runs every other job in its main thread, keeps its priority (a
    process-wide nice could never be raised back without privileges). Elsewhere the work runs
    at normal priority.
    """
    with ThreadPoolExecutor(1, "tastemaker-click-flush", initializer=_lower_priority) as pool:
        return pool.submit(work).result()


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # not Linux: stay at normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FLUSH_NICENESS)


@job("periodic", timeout=300, retry_intervals=())
def flush_clicks() -> int:
    """Returns clicks newly stored; 0 when the database is down (records stay in the spool)."""
    settings = current_app.config["TASTEMAKER"]
    db = get_db()
    try:
        return at_low_priority(
            lambda: flush_spool(
                spool_for(settings.spool_dir),
                db.transaction,
                batch_size=PACED_BATCH,
                rest_ratio=REST_RATIO,
            )
        )
    except SQLAlchemyError as exc:
        # The next run (seconds away) retries; RQ retries would only pile up behind it.
        logger.warning("click flush postponed, database unavailable: %s", exc)
        return 0
