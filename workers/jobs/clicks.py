"""Click flush: the spool the redirect writes, replayed into `clicks` rows.

Run every few seconds from PERIODIC by the worker (the embedded mode runs the same flush in a
thread of each serving process, see plugin.services.clicks). Idempotent (ON CONFLICT on
click_uid) and safe to run concurrently (one flush per host at a time; another returns 0).
"""

from __future__ import annotations

import logging
import os

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from plugin.db import get_db
from plugin.services.clicks import flush_spool, spool_for
from workers.registry import job

logger = logging.getLogger(__name__)


FLUSH_NICENESS = 19
# A few thousand clicks per run at 3,000/s: ~25 small transactions a few ms apart, not one burst.
PACED_BATCH = 250
PACED_PAUSE_SECONDS = 0.004


def _yield_cpu_to_web_workers() -> None:
    """Lower this process's CPU priority, when it is an RQ work-horse (forked for this job).

    The flush is throughput work sharing the host's cores with latency work (the redirect): at
    normal priority its bursts lengthened the redirect's p99 at 3,000 requests/s several times
    over. The work-horse exits after the job, so nothing else runs at the lower priority; the
    embedded runner's thread (one shared job thread) is left alone.
    """
    from rq import get_current_job

    if get_current_job() is not None:
        os.nice(FLUSH_NICENESS)


@job("periodic", timeout=300, retry_intervals=())
def flush_clicks() -> int:
    """Returns clicks newly stored; 0 when the database is down (records stay in the spool)."""
    settings = current_app.config["TASTEMAKER"]
    _yield_cpu_to_web_workers()
    try:
        return flush_spool(
            spool_for(settings.spool_dir),
            get_db().transaction,
            batch_size=PACED_BATCH,
            pause_seconds=PACED_PAUSE_SECONDS,
        )
    except SQLAlchemyError as exc:
        # The next run (seconds away) retries; RQ retries would only pile up behind it.
        logger.warning("click flush postponed, database unavailable: %s", exc)
        return 0
