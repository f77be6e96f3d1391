"""Rows for admin and payout tests, committed through the test's session (savepoints)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.models import (
    Attribution,
    Campaign,
    Creator,
    DiscountCode,
    LedgerEntry,
    Order,
    Payout,
    ReferralLink,
    Shop,
    utcnow,
)
from plugin.services.ledger import post_entry
from plugin.services.shops import issue_api_key

_sequence = itertools.count(1)


def make_shop(
    session: Session, domain: str, *, currency: str = "USD", platform: str = "sandbox", **kw: Any
) -> Shop:
    shop = Shop(
        platform=platform, domain=domain, name=domain, public_key=f"pk_{domain}", currency=currency
    )
    for name, value in kw.items():
        setattr(shop, name, value)
    session.add(shop)
    session.flush()
    return shop


def make_key(session: Session, shop: Shop) -> str:
    _, clear = issue_api_key(session, shop.id, "test")
    return clear


def make_creator(session: Session, shop: Shop, handle: str | None = None, **kw: Any) -> Creator:
    n = next(_sequence)
    creator = Creator(
        shop_id=shop.id,
        handle=handle or f"creator{n}",
        name=kw.pop("name", f"Creator {n}"),
        email=kw.pop("email", f"creator{n}@example.com"),
        **kw,
    )
    session.add(creator)
    session.flush()
    return creator


def make_campaign(session: Session, shop: Shop, **kw: Any) -> Campaign:
    campaign = Campaign(
        shop_id=shop.id, name=kw.pop("name", "Spring drop"), format="live_drop", **kw
    )
    session.add(campaign)
    session.flush()
    return campaign


def make_code(session: Session, shop: Shop, creator: Creator, code: str, **kw: Any) -> DiscountCode:
    row = DiscountCode(
        shop_id=shop.id,
        creator_id=creator.id,
        code=code,
        code_normalized=code.lower(),
        currency=shop.currency,
        **kw,
    )
    session.add(row)
    session.flush()
    return row


def make_link(session: Session, shop: Shop, creator: Creator, **kw: Any) -> ReferralLink:
    link = ReferralLink(
        shop_id=shop.id, creator_id=creator.id, slug=f"slug{next(_sequence):06d}", **kw
    )
    session.add(link)
    session.flush()
    return link


def make_order(session: Session, shop: Shop, **kw: Any) -> Order:
    n = next(_sequence)
    placed = kw.pop("placed_at", utcnow() - timedelta(days=1))
    order = Order(
        shop_id=shop.id,
        platform_order_id=kw.pop("platform_order_id", 1000 + n),
        order_number=kw.pop("order_number", f"#{1000 + n}"),
        status=kw.pop("status", "paid"),
        currency=shop.currency,
        presentment_currency=shop.currency,
        subtotal_minor=kw.get("net_item_revenue_minor", 10_000),
        total_minor=kw.pop("total_minor", 11_000),
        net_item_revenue_minor=kw.pop("net_item_revenue_minor", 10_000),
        presentment_total_minor=kw.pop("presentment_total_minor", 11_000),
        placed_at=placed,
        platform_updated_at=placed,
        **kw,
    )
    session.add(order)
    session.flush()
    return order


def make_attribution(
    session: Session, shop: Shop, order: Order, creator: Creator | None, **kw: Any
) -> Attribution:
    row = Attribution(
        shop_id=shop.id,
        order_id=order.id,
        creator_id=creator.id if creator else None,
        method=kw.pop("method", "code" if creator else "none"),
        evidence=kw.pop("evidence", {"summary": "attributed by discount_code 'ANNA10'"}),
        **kw,
    )
    session.add(row)
    session.flush()
    return row


def make_entry(
    session: Session,
    shop: Shop,
    creator: Creator,
    amount_minor: int,
    *,
    available_at: datetime | None = None,
    kind: str = "commission",
    order: Order | None = None,
    currency: str | None = None,
    reason: str = "test entry",
) -> LedgerEntry:
    # Through the ledger's own write path, so the balance rollup sees the entry too.
    key = f"test:{next(_sequence)}"
    post_entry(
        session,
        shop.id,
        creator_id=creator.id,
        order_id=order.id if order else None,
        kind=kind,
        amount_minor=amount_minor,
        currency=currency or shop.currency,
        available_at=available_at or utcnow() - timedelta(days=1),
        idempotency_key=key,
        reason=reason,
    )
    return session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.shop_id == shop.id, LedgerEntry.idempotency_key == key
        )
    ).one()


def make_payout(
    session: Session, shop: Shop, creator: Creator, amount_minor: int, **kw: Any
) -> Payout:
    n = next(_sequence)
    payout = Payout(
        shop_id=shop.id,
        creator_id=creator.id,
        amount_minor=amount_minor,
        currency=shop.currency,
        idempotency_key=kw.pop("idempotency_key", f"test:{n}"),
        batch_key=kw.pop("batch_key", "test-batch"),
        **kw,
    )
    session.add(payout)
    session.flush()
    return payout
