"""Shops: creation, credentials (encrypted at rest) and the ShopContext handed to connectors."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.base import ShopContext
from plugin.crypto import CredentialBox, sha256_hex
from plugin.models import ApiKey, Shop, utcnow

API_KEY_PREFIX = "tmk_"


def new_public_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def find_shop(session: Session, platform: str, domain: str) -> Shop | None:
    return session.scalars(
        select(Shop).where(Shop.platform == platform, Shop.domain == domain.lower())
    ).first()


def create_or_reinstall_shop(
    session: Session,
    box: CredentialBox,
    *,
    platform: str,
    domain: str,
    credentials: dict[str, Any],
    currency: str = "USD",
    name: str = "",
    timezone: str = "UTC",
) -> Shop:
    """Create the shop, or bring an uninstalled one back with fresh credentials."""
    shop = find_shop(session, platform, domain)
    if shop is None:
        shop = Shop(
            platform=platform,
            domain=domain.lower(),
            name=name or domain,
            public_key=new_public_key(),
            currency=currency.upper(),
            timezone=timezone,
        )
        session.add(shop)
    shop.credentials_encrypted = box.seal(credentials)
    shop.status = "active"
    shop.installed_at = utcnow()
    shop.uninstalled_at = None
    session.flush()
    return shop


def shop_context(session: Session, box: CredentialBox, shop: Shop) -> ShopContext:
    shop_id = shop.id

    def save_credentials(updated: dict[str, Any]) -> None:
        # Own short transaction: a refreshed token must be durable before it is used.
        save_shop_credentials(session, box, shop_id, updated)

    return ShopContext(
        shop_id=shop.id,
        platform=shop.platform,
        domain=shop.domain,
        currency=shop.currency,
        credentials=box.open(shop.credentials_encrypted),
        save_credentials=save_credentials,
    )


def save_shop_credentials(
    session: Session, box: CredentialBox, shop_id: int, credentials: dict[str, Any]
) -> None:
    session.execute(
        update(Shop).where(Shop.id == shop_id).values(credentials_encrypted=box.seal(credentials))
    )
    session.commit()


def mark_uninstalled(session: Session, shop: Shop, when: datetime | None = None) -> None:
    shop.status = "uninstalled"
    shop.uninstalled_at = when or utcnow()
    shop.credentials_encrypted = None


def mark_needs_reconnect(session: Session, shop_id: int) -> None:
    session.execute(update(Shop).where(Shop.id == shop_id).values(status="needs_reconnect"))


def issue_api_key(session: Session, shop_id: int, label: str = "") -> tuple[ApiKey, str]:
    """Create an admin API key; the clear text is returned once and never stored."""
    clear = API_KEY_PREFIX + secrets.token_urlsafe(24)
    key = ApiKey(shop_id=shop_id, key_hash=sha256_hex(clear), prefix=clear[:8], label=label)
    session.add(key)
    session.flush()
    return key, clear
