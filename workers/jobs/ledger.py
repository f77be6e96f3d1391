"""Ledger jobs: flat fees posted as agreements' schedules make them due.

Each installment has its own idempotency key, so running these jobs twice, or at the same time,
posts every fee once.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from plugin.db import get_session
from plugin.models import Shop, utcnow
from plugin.services.ledger import post_due_flat_fees
from workers.registry import job
from workers.runtime import enqueue

logger = logging.getLogger(__name__)


@job("periodic", timeout=300)
def post_shop_flat_fees(shop_id: int) -> int:
    session = get_session()
    shop = session.get(Shop, shop_id)
    if shop is None or not shop.is_active:
        session.rollback()
        return 0
    posted = post_due_flat_fees(session, shop, utcnow())
    session.commit()
    if posted:
        logger.info("shop %s: %d flat fee installment(s) posted", shop_id, posted)
    return posted


@job("periodic", timeout=120)
def post_flat_fees_all_shops() -> int:
    session = get_session()
    shop_ids = session.scalars(
        select(Shop.id).where(Shop.status == "active").order_by(Shop.id)
    ).all()
    session.rollback()
    for shop_id in shop_ids:
        enqueue(post_shop_flat_fees, shop_id)
    return len(shop_ids)
