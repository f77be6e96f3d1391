"""Webhook jobs: process one inbox event, sweep events left pending, replay the local spool."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from plugin.db import get_session
from plugin.extensions import connectors, credentials
from plugin.ingest.inbox import replay_spooled, spool_for
from plugin.ingest.processing import process_event
from plugin.ingest.stats import stats_for
from plugin.models import WebhookEvent, utcnow
from workers.registry import job
from workers.runtime import enqueue

logger = logging.getLogger(__name__)

# Younger pending events are most likely still on their way through the queue.
SWEEP_MIN_AGE = timedelta(seconds=10)
SWEEP_BATCH = 500


@job("webhooks", timeout=60)
def process_webhook_event(event_id: int) -> None:
    process_event(get_session(), event_id)


@job("periodic", timeout=120, retry_intervals=())
def sweep_pending_events() -> int:
    """Enqueue the oldest events still pending (Redis was down, or a job was lost)."""
    session = get_session()
    ids = list(
        session.scalars(
            select(WebhookEvent.id)
            .where(
                WebhookEvent.status == "pending",
                WebhookEvent.received_at < utcnow() - SWEEP_MIN_AGE,
            )
            .order_by(WebhookEvent.received_at)
            .limit(SWEEP_BATCH)
        )
    )
    session.rollback()  # the read is over; never enqueue inside an open transaction
    sent = 0
    for event_id in ids:
        if not enqueue(process_webhook_event, event_id):
            break  # the queue is still down; the next sweep tries again
        sent += 1
    if ids:
        logger.info("swept %d of %d pending webhook events", sent, len(ids))
    return sent


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
