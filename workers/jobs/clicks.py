"""Click flush: the spool the redirect writes, replayed into `clicks` rows and rollup cells.

Run every second from PERIODIC by the worker (the embedded mode runs the same flush in a thread
of each serving process, see plugin.services.click_flush). Exactly once whatever happens to a
run (see there), and safe to run concurrently (one flush per host at a time; another returns 0).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from plugin.db import get_db
from plugin.services.click_flush import FLUSH_BUDGET, flush_spool
from plugin.services.clicks import spool_for
from workers.registry import job

logger = logging.getLogger(__name__)


FLUSH_NICENESS = 10
# A tick that waited this long in the queue waited behind a flush (or another long job): that
# flush took what the spool held, and the next tick is at most a second away. Skipping such
# ticks keeps the queue from filling with flushes while one runs for its whole budget.
STALE_TICK_SECONDS = 5.0

T = TypeVar("T")


def at_low_priority(work: Callable[[], T]) -> T:
    """Run `work` in a thread of its own at a lower CPU priority, and wait for it.

    The flush is throughput work sharing the host's cores with latency work (the redirect), so
    a web worker wins a contended core. Not the lowest priority, though: by the scheduler's
    weights a nice-19 thread gets about 1/70 of what each busy nice-0 process gets, so on a
    busy host the flush could not keep up with the redirect (which it must, see
    benchmarks/redirect_flush.py); at nice 10 it gets about 1/10. Only the Python side is
    lowered (~4 µs of the flush's ~20 µs of CPU per click; the rest is the database's).
    Linux keeps a nice value per thread, so only this short-lived thread is lowered; the worker
    process, which runs every other job in its main thread, keeps its priority (a process-wide
    nice could never be raised back without privileges). Elsewhere the work runs at normal
    priority.
    """
    with ThreadPoolExecutor(1, "tastemaker-click-flush", initializer=_lower_priority) as pool:
        return pool.submit(work).result()


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # not Linux: stay at normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FLUSH_NICENESS)


def _waited_seconds() -> float:
    """How long this run waited in RQ's queue (0 outside RQ)."""
    from rq import get_current_job

    rq_job = get_current_job()
    if rq_job is None or rq_job.enqueued_at is None:
        return 0.0
    return time.time() - rq_job.enqueued_at.timestamp()  # RQ's times are tz-aware UTC


@job("periodic", timeout=int(FLUSH_BUDGET) + 120, retry_intervals=())
def flush_clicks() -> int:
    """Returns clicks newly stored; 0 when the database is down (records stay in the spool)."""
    if _waited_seconds() > STALE_TICK_SECONDS:
        return 0
    settings = current_app.config["TASTEMAKER"]
    db = get_db()
    try:
        return at_low_priority(lambda: flush_spool(spool_for(settings.spool_dir), db.transaction))
    except SQLAlchemyError as exc:
        # The next run (a second away) retries; RQ retries would only pile up behind it.
        logger.warning("click flush postponed, database unavailable: %s", exc)
        return 0
