"""Click flush: the spool the redirect writes, replayed into `clicks` rows.

Each serving process already flushes its own host's spool every few seconds (see
plugin.services.clicks); this periodic job runs the same flush as a backstop for segments left by
processes that are gone. It is idempotent (ON CONFLICT on click_uid) and safe to run concurrently
(one flush per host at a time; the other returns 0 at once).
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from plugin.db import get_db
from plugin.services.clicks import flush_spool, spool_for
from workers.registry import job

logger = logging.getLogger(__name__)


@job("periodic", timeout=300, retry_intervals=())
def flush_clicks() -> int:
    """Returns clicks newly stored; 0 when the database is down (records stay in the spool)."""
    settings = current_app.config["TASTEMAKER"]
    try:
        return flush_spool(spool_for(settings.spool_dir), get_db().transaction)
    except SQLAlchemyError as exc:
        # The next run (seconds away) retries; RQ retries would only pile up behind it.
        logger.warning("click flush postponed, database unavailable: %s", exc)
        return 0
