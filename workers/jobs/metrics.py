"""Metrics housekeeping: raw click retention (plugin.services.click_retention) and the visitor
blocks of settled days (plugin.services.visitor_blocks).

Rollups themselves need no job: every writer keeps them up to date in its own transaction; the
visitor blocks are a cache the reads use when it is there and valid.
"""

from __future__ import annotations

from sqlalchemy import select

from plugin.db import get_db, get_session
from plugin.models import Shop, utcnow
from plugin.services import visitor_blocks
from plugin.services.click_retention import prune_shop_clicks
from workers.registry import job
from workers.runtime import enqueue


@job("periodic", timeout=1800)
def prune_shop_clicks_job(shop_id: int) -> int:
    """Delete one shop's raw clicks older than its retention (in small transactions)."""
    return prune_shop_clicks(get_db().transaction, shop_id, utcnow())


@job("periodic", timeout=120)
def prune_clicks_all_shops() -> int:
    session = get_session()
    shop_ids = session.scalars(select(Shop.id).order_by(Shop.id)).all()
    session.rollback()
    for shop_id in shop_ids:
        enqueue(prune_shop_clicks_job, shop_id)
    return len(shop_ids)


@job("periodic", timeout=600)
def compact_visitor_blocks_job(shop_id: int) -> int:
    """Merge one shop's newly settled click cells into visitor blocks."""
    return visitor_blocks.compact(get_db().transaction, shop_id, utcnow())


@job("periodic", timeout=120)
def compact_visitor_blocks_all_shops() -> int:
    session = get_session()
    shop_ids = session.scalars(select(Shop.id).order_by(Shop.id)).all()
    session.rollback()
    for shop_id in shop_ids:
        enqueue(compact_visitor_blocks_job, shop_id)
    return len(shop_ids)
