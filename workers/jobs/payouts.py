"""Payout batches: one job per shop and batch key; the daily job sends one per active shop."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from plugin.db import get_session
from plugin.models import Shop, utcnow
from plugin.services.payouts import batch_payouts
from workers.registry import job
from workers.runtime import enqueue

logger = logging.getLogger(__name__)


def daily_batch_key(moment: datetime) -> str:
    return f"daily-{moment.date().isoformat()}"


@job("payouts", timeout=300)
def batch_shop_payouts(shop_id: int, batch_key: str) -> int:
    """Safe to run twice or at the same time: the batch key makes the second run a no-op."""
    session = get_session()
    created = batch_payouts(session, shop_id, batch_key)
    session.commit()
    return len(created)


@job("payouts", timeout=120)
def batch_all_shops() -> int:
    batch_key = daily_batch_key(utcnow())
    session = get_session()
    shop_ids = session.scalars(
        select(Shop.id).where(Shop.status == "active").order_by(Shop.id)
    ).all()
    session.rollback()
    for shop_id in shop_ids:
        # A stable job id lets RQ drop a duplicate while the first is still queued.
        enqueue(batch_shop_payouts, shop_id, batch_key, job_id=f"payouts-{shop_id}-{batch_key}")
    logger.info("payout batch %s sent for %d shops", batch_key, len(shop_ids))
    return len(shop_ids)
