"""Webhook jobs: drain the inbox in batches, sweep events left pending, replay the local spool."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from plugin.db import get_session
from plugin.extensions import connectors, credentials
from plugin.ingest.inbox import replay_spooled, spool_for
from plugin.ingest.processing import process_pending
from plugin.ingest.stats import stats_for
from plugin.models import WebhookEvent, utcnow
from plugin.services.backlog import SWEEPER_HEARTBEAT
from workers.registry import job
from workers.runtime import enqueue, get_backend

logger = logging.getLogger(__name__)

# Younger pending events are most likely still on their way through the queue.
SWEEP_MIN_AGE = timedelta(seconds=10)
# Events per drain transaction: large enough that queue and commit costs fade, small enough that
# a batch's row locks and its retry after a database failure stay cheap.
DRAIN_BATCH = 50


@job("webhooks", timeout=60, coalesce=True)
def drain_webhook_inbox() -> int:
    """Process one batch of pending inbox events; returns how many were claimed.

    Every stored delivery asks for a drain after its commit; as a coalescing job at most one
    waits in the queue. A full batch asks for the next drain before working, so idle workers
    take the following batch in parallel (SKIP LOCKED keeps their claims apart)."""
    batch = process_pending(
        get_session(), limit=DRAIN_BATCH, on_full_claim=lambda: enqueue(drain_webhook_inbox)
    )
    return batch.claimed


@job("periodic", timeout=120, retry_intervals=())
def sweep_pending_events() -> int:
    """Ask for a drain when events are still pending and due (Redis was down, a job was lost,
    or a transient failure's wait is over); returns how many are waiting."""
    _beat(SWEEPER_HEARTBEAT)
    now = utcnow()
    waiting = get_session().scalar(
        select(func.count(WebhookEvent.id)).where(
            WebhookEvent.status == "pending",
            WebhookEvent.received_at < now - SWEEP_MIN_AGE,
            or_(WebhookEvent.next_attempt_at.is_(None), WebhookEvent.next_attempt_at <= now),
        )
    )
    get_session().rollback()  # the read is over; never enqueue inside an open transaction
    if not waiting:
        return 0
    if not enqueue(drain_webhook_inbox):
        return 0  # the queue is still down; the next sweep tries again
    logger.info("%d pending webhook events are waiting; asked for a drain", waiting)
    return int(waiting)


def _beat(name: str) -> None:
    from redis.exceptions import RedisError

    try:
        get_backend().beat(name)
    except RedisError as exc:  # the sweep itself still runs; readyz will say it looks stale
        logger.warning("could not record the %s heartbeat: %s", name, exc)


@job("periodic", timeout=300, retry_intervals=())
def replay_spool() -> int:
    """Record the deliveries spooled while the database was down."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    recorded = replay_spooled(
        get_session(), spool_for(app), connectors(), credentials(), stats_for(app)
    )
    if recorded:
        logger.info("replayed %d spooled webhook deliveries", recorded)
    return recorded
