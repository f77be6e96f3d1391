"""What is waiting, and for how long: the webhook inbox, the click spool, the sweeper's last run.

`/readyz` reports these with their ages. None of them makes the process unready (the web tier is
fine, and pulling it out of a load balancer would only make a backlog worse); they are warnings
for whoever watches: a click spool nobody flushes (no `tastemaker cron`), a sweeper that stopped,
webhook events waiting for a worker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.models import WebhookEvent

# Past these ages a backlog is reported stale.
WEBHOOK_BACKLOG_STALE_SECONDS = 300.0
CLICK_SPOOL_STALE_SECONDS = 60.0  # flushed every 2 s by `tastemaker cron`
SWEEPER_STALE_SECONDS = 180.0  # runs every 60 s
SWEEPER_HEARTBEAT = "sweeper"


@dataclass(frozen=True)
class Backlog:
    waiting: int | None
    oldest_age_seconds: float | None
    stale_after_seconds: float
    # A heartbeat never seen is stale (the job never ran); an empty queue is not.
    stale_when_unknown: bool = False

    @property
    def stale(self) -> bool:
        if self.oldest_age_seconds is None:
            return self.stale_when_unknown
        return self.oldest_age_seconds > self.stale_after_seconds

    def as_json(self) -> dict[str, object]:
        age = None if self.oldest_age_seconds is None else round(self.oldest_age_seconds, 1)
        return {"waiting": self.waiting, "oldest_age_seconds": age, "stale": self.stale}


def webhook_backlog(session: Session, now: datetime) -> Backlog:
    count, oldest = session.execute(
        select(func.count(WebhookEvent.id), func.min(WebhookEvent.received_at)).where(
            WebhookEvent.status == "pending"
        )
    ).one()
    age = None if oldest is None else max((now - _aware(oldest, now)).total_seconds(), 0.0)
    return Backlog(int(count), age, WEBHOOK_BACKLOG_STALE_SECONDS)


def spool_backlog(directory: Path, stale_after: float = CLICK_SPOOL_STALE_SECONDS) -> Backlog:
    """Segments of a local spool and the age of the oldest (by its file's modification time)."""
    ages = []
    now = time.time()
    if directory.exists():
        for pattern in ("*.open", "*.ready", "*.claimed"):
            for path in directory.glob(pattern):
                try:
                    ages.append(max(now - path.stat().st_mtime, 0.0))
                except FileNotFoundError:
                    continue  # flushed meanwhile
    return Backlog(len(ages), max(ages) if ages else None, stale_after)


def heartbeat_backlog(last_beat: float | None) -> Backlog:
    """The time since a periodic job last ran (None: never seen by this queue backend)."""
    age = None if last_beat is None else max(time.time() - last_beat, 0.0)
    return Backlog(None, age, SWEEPER_STALE_SECONDS, stale_when_unknown=True)


def _aware(moment: datetime, like: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)
