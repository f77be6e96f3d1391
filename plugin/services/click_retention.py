"""Raw click retention: clicks older than the shop's retention are deleted; rollups keep them.

Every stored click is already counted in its day's click cell (plugin.services.rollups), so
metrics for any period keep working after its raw clicks are gone. What the raw rows are still
needed for is attribution (a click id must be found within the attribution window), privacy
exports and redaction, and rebuilding click cells; so retention is never shorter than the
attribution window plus a margin, and a rebuild leaves the cells of pruned days alone
(MetricState.clicks_pruned_before).

Per shop: `Shop.settings["click_retention_days"]` (default DEFAULT_DAYS). Pruned in small
batches, each its own transaction, so the table is never locked for long; run by the periodic
job `workers.jobs.metrics.prune_clicks_all_shops` (daily) and safe to run twice or at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plugin.models import Click, Shop
from plugin.services.metrics_rebuild import mark_clicks_pruned
from plugin.services.rollups import day_bounds, lock_shops_shared, zone_named

logger = logging.getLogger(__name__)

Transaction = Callable[[], AbstractContextManager[Session]]
SETTING = "click_retention_days"
DEFAULT_DAYS = 400  # a year of raw clicks plus a month: year-on-year questions stay answerable
MARGIN_DAYS = 7  # beyond the attribution window, for late orders and replays
BATCH = 10_000


def retention_days(shop: Shop) -> int:
    """The shop's setting, never shorter than its attribution window plus the margin."""
    raw = (shop.settings or {}).get(SETTING, DEFAULT_DAYS)
    try:
        days = int(raw)
    except (TypeError, ValueError):
        logger.warning(
            "shop %s: %s=%r is not a number; using %s", shop.id, SETTING, raw, DEFAULT_DAYS
        )
        days = DEFAULT_DAYS
    return max(days, shop.attribution_window_days + MARGIN_DAYS)


def prune_before(shop: Shop, now: datetime) -> date:
    """The first shop-local day whose raw clicks are kept."""
    zone = zone_named(shop.timezone)
    return now.astimezone(zone).date() - timedelta(days=retention_days(shop))


def prune_shop_clicks(transaction: Transaction, shop_id: int, now: datetime) -> int:
    """Delete the shop's raw clicks older than its retention; returns how many."""
    with transaction() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            return 0
        keep_from = prune_before(shop, now)
        cutoff = day_bounds(keep_from, zone_named(shop.timezone))[0]
        # Recorded first: from now on a rebuild leaves these days' click cells alone.
        mark_clicks_pruned(session, shop_id, keep_from)
    deleted = 0
    while True:
        with transaction() as session:
            lock_shops_shared(session.connection(), [shop_id])
            ids = session.scalars(
                select(Click.id)
                .where(Click.shop_id == shop_id, Click.occurred_at < cutoff)
                .limit(BATCH)
            ).all()
            if not ids:
                break
            session.execute(delete(Click).where(Click.id.in_(ids)))
            deleted += len(ids)
    if deleted:
        logger.info("shop %s: %d raw clicks before %s pruned", shop_id, deleted, keep_from)
    return deleted
