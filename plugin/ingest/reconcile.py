"""Reconciliation: pull orders changed since the last sync through the webhook processing path.

Webhooks can be missed (WooCommerce never retries and disables a webhook after a few failures;
Shopify gives up after 8 tries), so every active shop is polled periodically. Each payload goes
through the same parse -> apply_order step as a webhook, which is idempotent: an order seen both
ways is counted once. `last_synced_at` advances to the sync's start only after every page is in.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.base import CredentialsRevoked, MalformedPayload, RetryableConnectorError
from plugin.extensions import connectors, credentials
from plugin.ingest.handlers import apply_order_payload
from plugin.models import Shop, utcnow
from plugin.services.shops import mark_needs_reconnect, shop_context
from workers.registry import RetryableJobError

logger = logging.getLogger(__name__)

# Re-read a little before the last sync: platform clocks and commit delays are not ours.
SYNC_OVERLAP = timedelta(minutes=5)
# A shop with no sync and no install time (should not happen) starts this far back.
FIRST_SYNC_LOOKBACK = timedelta(days=30)


def active_shop_ids(session: Session) -> list[int]:
    ids = list(session.scalars(select(Shop.id).where(Shop.status == "active").order_by(Shop.id)))
    session.rollback()  # end the read so no transaction stays open while jobs are sent
    return ids


def reconcile_shop(session: Session, shop_id: int) -> int:
    """Apply every order changed since the last sync; returns how many payloads were applied."""
    shop = session.get(Shop, shop_id)
    if shop is None or not shop.is_active:
        session.rollback()
        return 0
    connector = connectors().get(shop.platform)
    context = shop_context(session, credentials(), shop)
    started = utcnow()
    since = (shop.last_synced_at or shop.installed_at or started - FIRST_SYNC_LOOKBACK) - (
        SYNC_OVERLAP
    )
    session.commit()
    applied = 0
    cursor: str | None = None
    try:
        while True:
            page = connector.orders_updated_since(context, since, cursor)
            for payload in page.payloads:
                try:
                    apply_order_payload(session, shop, connector, payload)
                    applied += 1
                except MalformedPayload as exc:
                    # The webhook inbox keeps such payloads for inspection; here, move on.
                    logger.warning("shop %s: unreadable order skipped in sync: %s", shop_id, exc)
            session.commit()
            cursor = page.next_cursor
            if not cursor:
                break
    except CredentialsRevoked as exc:
        session.rollback()
        logger.warning("shop %s needs reconnecting, sync stopped: %s", shop_id, exc)
        mark_needs_reconnect(session, shop_id)
        session.commit()
        return applied
    except RetryableConnectorError as exc:
        session.rollback()
        raise RetryableJobError(f"shop {shop_id} sync: {exc}", retry_after=exc.retry_after) from exc
    session.execute(update(Shop).where(Shop.id == shop_id).values(last_synced_at=started))
    session.commit()
    logger.info("shop %s synced: %d orders since %s", shop_id, applied, since.isoformat())
    return applied
