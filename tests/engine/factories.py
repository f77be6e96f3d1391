"""Rows and normalized orders for the engine tests (attribution, orders, ledger)."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from connectors.base import LineItem, NormalizedOrder, NormalizedRefund
from plugin.models import Agreement, Click, Creator, DiscountCode, ReferralLink, Shop

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def make_shop(session: Session, *, currency: str = "USD", **values: Any) -> Shop:
    n = next(_ids)
    shop = Shop(
        platform="sandbox",
        domain=f"engine-{n}.example",
        public_key=f"pk_engine_{n}",
        currency=currency,
        **values,
    )
    session.add(shop)
    session.flush()
    return shop


def make_creator(session: Session, shop: Shop, handle: str = "alice", **values: Any) -> Creator:
    creator = Creator(shop_id=shop.id, handle=handle, **values)
    session.add(creator)
    session.flush()
    return creator


def make_agreement(
    session: Session, shop: Shop, creator: Creator, *, rate_bps: int = 1000, **values: Any
) -> Agreement:
    values.setdefault("currency", shop.currency)
    agreement = Agreement(
        shop_id=shop.id, creator_id=creator.id, commission_rate_bps=rate_bps, **values
    )
    session.add(agreement)
    session.flush()
    return agreement


def make_code(
    session: Session,
    shop: Shop,
    creator: Creator,
    code: str = "ALICE10",
    *,
    agreement: Agreement | None = None,
    status: str = "active",
    **values: Any,
) -> DiscountCode:
    row = DiscountCode(
        shop_id=shop.id,
        creator_id=creator.id,
        agreement_id=agreement.id if agreement else None,
        code=code,
        code_normalized=code.strip().lower(),
        status=status,
        currency=shop.currency,
        **values,
    )
    session.add(row)
    session.flush()
    return row


def make_link(
    session: Session, shop: Shop, creator: Creator, slug: str | None = None, **values: Any
) -> ReferralLink:
    link = ReferralLink(
        shop_id=shop.id, creator_id=creator.id, slug=slug or f"link{next(_ids):06d}"
    )
    for key, value in values.items():
        setattr(link, key, value)
    session.add(link)
    session.flush()
    return link


def make_click(session: Session, link: ReferralLink, uid: str, occurred_at: datetime = T0) -> Click:
    click = Click(
        shop_id=link.shop_id,
        link_id=link.id,
        creator_id=link.creator_id,
        click_uid=uid,
        occurred_at=occurred_at,
    )
    session.add(click)
    session.flush()
    return click


def order(**values: Any) -> NormalizedOrder:
    """A paid 100.00 USD order (two lines, no tax or shipping) unless told otherwise."""
    base = NormalizedOrder(
        platform="sandbox",
        platform_order_id=values.pop("platform_order_id", 7001),
        order_number="SB7001",
        status="paid",
        created_at=T0,
        updated_at=T0,
        currency="USD",
        presentment_currency="USD",
        subtotal_minor=10_000,
        discount_minor=0,
        tax_minor=0,
        shipping_minor=0,
        total_minor=10_000,
        presentment_total_minor=10_000,
        line_items=(
            LineItem(1, 11, 111, "Serum", 1, 6_000),
            LineItem(2, 12, 121, "Balm", 2, 2_000),
        ),
    )
    return replace(base, **values)


def later(payload: NormalizedOrder, minutes: int, **values: Any) -> NormalizedOrder:
    """The same order as a newer payload (`minutes` after the first)."""
    return replace(payload, updated_at=payload.created_at + timedelta(minutes=minutes), **values)


def refund(
    refund_id: int,
    item_amount_minor: int,
    *,
    platform_order_id: int = 7001,
    at: datetime = T0 + timedelta(days=2),
    currency: str = "USD",
) -> NormalizedRefund:
    return NormalizedRefund(
        platform_refund_id=refund_id,
        platform_order_id=platform_order_id,
        created_at=at,
        currency=currency,
        item_amount_minor=item_amount_minor,
        total_amount_minor=item_amount_minor,
    )
