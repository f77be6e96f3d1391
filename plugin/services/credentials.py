"""Expiring platform tokens: the one place a token is refreshed, atomically, before it is used.

Two jobs can find the same shop's token near expiry at once. Each locks the shop row (SELECT ...
FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already admits one writer at a time), re-reads
the credentials, and refreshes only if they still need it; the winner persists and commits before
anyone uses the new token, and the loser finds it already fresh. The previous refresh token then
stays unused, which is what Shopify expects (it stays valid only until its successor is used).

Callers should not hold an SQLite write transaction of their own on another connection while
calling in; the core's jobs end theirs before talking to a store.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import CredentialsRevoked, ShopContext
from plugin.crypto import CredentialBox
from plugin.models import Shop
from plugin.services.shops import mark_needs_reconnect, save_shop_credentials

logger = logging.getLogger(__name__)


class TokenRefresher(Protocol):
    """What a connector with expiring tokens offers (the Shopify connector does)."""

    def credentials_need_refresh(
        self, credentials: Mapping[str, Any], now: datetime | None = None
    ) -> bool: ...

    def refresh_credentials(
        self, shop_domain: str, credentials: Mapping[str, Any], now: datetime | None = None
    ) -> dict[str, Any]: ...


def ensure_fresh_credentials(
    session: Session,
    box: CredentialBox,
    refresher: TokenRefresher,
    shop_id: int,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The shop's credentials, refreshed first if they are near expiry; commits if it refreshes.

    Raises CredentialsRevoked (after marking the shop needs_reconnect) when the platform refuses
    the refresh token, and RetryableConnectorError (nothing changed) when it cannot be reached.
    """
    stored = session.scalar(select(Shop.credentials_encrypted).where(Shop.id == shop_id))
    credentials = box.open(stored)
    if not refresher.credentials_need_refresh(credentials, now):
        return credentials
    row = session.execute(
        select(Shop.domain, Shop.credentials_encrypted, Shop.status)
        .where(Shop.id == shop_id)
        .with_for_update()
    ).first()
    if row is None:
        session.rollback()
        raise CredentialsRevoked(f"shop {shop_id} no longer exists")
    domain, locked, status = row
    credentials = box.open(locked)
    if status == "uninstalled" or not credentials:
        session.rollback()
        raise CredentialsRevoked(f"shop {shop_id} is uninstalled")
    if not refresher.credentials_need_refresh(credentials, now):
        session.rollback()  # another worker refreshed while we waited for the lock
        return credentials
    try:
        refreshed = refresher.refresh_credentials(domain, credentials, now)
    except CredentialsRevoked:
        session.rollback()
        logger.warning("shop %s refused our refresh token; it needs reconnecting", shop_id)
        mark_needs_reconnect(session, shop_id)
        session.commit()
        raise
    except Exception:
        session.rollback()
        raise
    # Durable before use: a crash after this commit leaves the new token, never a lost one.
    save_shop_credentials(session, box, shop_id, refreshed)
    logger.info("shop %s: access token refreshed", shop_id)
    return refreshed


def fresh_shop_context(
    session: Session, box: CredentialBox, refresher: TokenRefresher, shop: Shop
) -> ShopContext:
    """A ShopContext whose token is good for the next few minutes (see the connector's margin)."""
    shop_id, domain, platform, currency = shop.id, shop.domain, shop.platform, shop.currency
    credentials = ensure_fresh_credentials(session, box, refresher, shop_id)

    def save_credentials(updated: dict[str, Any]) -> None:
        save_shop_credentials(session, box, shop_id, updated)

    return ShopContext(
        shop_id=shop_id,
        platform=platform,
        domain=domain,
        currency=currency,
        credentials=credentials,
        save_credentials=save_credentials,
    )
