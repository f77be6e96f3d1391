"""A seeded shop for metrics, every figure of which is hand-computed in the tests.

Shop "mugs" (USD), period March 2026. Creators: ava (campaign "Spring" + always-on), ben, cy (no
activity), dee (a flat fee, no sales), eve (a sale, no ledger). Customers c1..c9. A second shop
with the same kinds of rows checks that nothing leaks across tenants.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from plugin.models import (
    Agreement,
    Attribution,
    Campaign,
    Click,
    Creator,
    LedgerEntry,
    Order,
    ReferralLink,
    Refund,
    Shop,
)
from plugin.services.metrics_rebuild import rebuild_shop

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
_ids = itertools.count(1)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


@dataclass
class Seed:
    shop: Shop
    creators: dict[str, Creator]
    spring: Campaign
    orders: dict[str, Order]


class Builder:
    def __init__(self, session: Session, domain: str) -> None:
        self.session = session
        self.shop = Shop(platform="sandbox", domain=domain, public_key=f"pk_{domain}")
        session.add(self.shop)
        session.flush()

    def add(self, row: object) -> object:
        row.shop_id = self.shop.id  # type: ignore[attr-defined]
        self.session.add(row)
        self.session.flush()
        return row

    def creator(self, handle: str) -> Creator:
        return self.add(Creator(handle=handle))  # type: ignore[return-value]

    def link(self, creator: Creator, campaign: Campaign | None) -> ReferralLink:
        return self.add(  # type: ignore[return-value]
            ReferralLink(
                creator_id=creator.id,
                campaign_id=campaign.id if campaign else None,
                slug=f"slug{next(_ids)}",
            )
        )

    def clicks(self, link: ReferralLink, when: datetime, *visitors: str) -> None:
        for visitor in visitors:
            self.add(
                Click(
                    link_id=link.id,
                    creator_id=link.creator_id,
                    click_uid=f"click{next(_ids)}",
                    occurred_at=when,
                    visitor_hash=visitor,
                )
            )

    def order(
        self,
        when: datetime,
        net: int,
        *,
        creator: Creator | None = None,
        campaign: Campaign | None = None,
        agreement: Agreement | None = None,
        customer: str | None = None,
        first: bool | None = None,
        status: str = "paid",
        test: bool = False,
        self_referral: bool = False,
        method: str = "code",
    ) -> Order:
        order = self.add(
            Order(
                platform_order_id=next(_ids),
                status=status,
                currency="USD",
                presentment_currency="USD",
                net_item_revenue_minor=net,
                subtotal_minor=net,
                total_minor=net,
                customer_ref=customer,
                is_first_order=first,
                is_test=test,
                placed_at=when,
                platform_updated_at=when,
            )
        )
        assert isinstance(order, Order)
        self.add(
            Attribution(
                order_id=order.id,
                creator_id=creator.id if creator else None,
                campaign_id=campaign.id if campaign else None,
                agreement_id=agreement.id if agreement else None,
                method=method if creator else "none",
                self_referral=self_referral,
            )
        )
        return order

    def refund(self, order: Order, amount: int, when: datetime) -> None:
        self.add(
            Refund(
                platform_refund_id=next(_ids),
                platform_order_id=order.platform_order_id,
                item_amount_minor=amount,
                total_amount_minor=amount,
                currency="USD",
                refunded_at=when,
            )
        )

    def entry(
        self,
        creator: Creator,
        kind: str,
        amount: int,
        posted: datetime,
        *,
        order: Order | None = None,
        agreement: Agreement | None = None,
    ) -> None:
        self.add(
            LedgerEntry(
                creator_id=creator.id,
                order_id=order.id if order else None,
                agreement_id=agreement.id if agreement else None,
                kind=kind,
                amount_minor=amount,
                currency="USD",
                available_at=posted,
                idempotency_key=f"{kind}:{next(_ids)}",
                created_at=posted,
            )
        )


@pytest.fixture
def seed(session: Session) -> Seed:
    b = Builder(session, "mugs.example")
    ava, ben, cy, dee, eve = (b.creator(h) for h in ("ava", "ben", "cy", "dee", "eve"))
    spring = b.add(Campaign(name="Spring", format="live_drop"))
    assert isinstance(spring, Campaign)
    ava_spring = b.add(Agreement(creator_id=ava.id, campaign_id=spring.id))
    ava_always = b.add(Agreement(creator_id=ava.id))
    dee_always = b.add(Agreement(creator_id=dee.id))
    assert isinstance(ava_spring, Agreement)
    assert isinstance(ava_always, Agreement)
    assert isinstance(dee_always, Agreement)

    # Clicks: ava 3 on her Spring link (v1, v1, v2) + 1 always-on (v3) + 1 in February;
    # ben 2 (v1 and one without a visitor hash).
    ava_spring_link, ava_link, ben_link = (
        b.link(ava, spring),
        b.link(ava, None),
        b.link(ben, None),
    )
    b.clicks(ava_spring_link, at(3, 2), "v1", "v1", "v2")
    b.clicks(ava_link, at(3, 3), "v3")
    b.clicks(ava_link, at(2, 27), "v9")
    b.clicks(ben_link, at(3, 4), "v1", "")

    o = {
        "o1": b.order(
            at(3, 2), 10000, creator=ava, campaign=spring, customer="c1", first=True, method="click"
        ),
        "o2": b.order(
            at(3, 5),
            5000,
            creator=ava,
            campaign=spring,
            customer="c2",
            first=False,
            status="partially_refunded",
        ),
        "o3": b.order(at(3, 6), 3000, creator=ava, customer="c3", first=True),
        "o4": b.order(at(3, 7), 7000, creator=ava, customer="ava-herself", self_referral=True),
        "o5": b.order(at(3, 8), 4000, creator=ben, customer="c4", first=True),
        "o6": b.order(at(3, 9), 9999, creator=ben, customer="c6", status="cancelled"),
        "o7": b.order(at(3, 9), 8888, creator=ben, customer="c7", test=True),
        "o8": b.order(at(3, 20), 6000, customer="c1"),  # c1 again, unattributed
        "o9": b.order(at(2, 15), 1111, creator=ava, customer="c9", first=True),
        "o10": b.order(at(3, 21), 4444, creator=ava, customer="c3", status="pending"),
        "o11": b.order(at(4, 10), 2500, creator=ben, customer="c1"),  # c1 later, via ben
        "o12": b.order(at(3, 25), 3333, customer="c3", status="cancelled"),
        "o13": b.order(at(3, 26), 2000, creator=eve, customer="c5", first=True),
        "o14": b.order(at(2, 20), 5000, customer="c8"),  # unattributed, February
    }
    b.refund(o["o2"], 2000, at(4, 5))
    b.refund(o["o11"], 500, at(4, 12))

    b.entry(ava, "commission", 1000, at(3, 2), order=o["o1"], agreement=ava_spring)
    b.entry(ava, "commission", 500, at(3, 5), order=o["o2"], agreement=ava_spring)
    b.entry(ava, "reversal", -200, at(4, 5), order=o["o2"], agreement=ava_spring)
    b.entry(ava, "commission", 300, at(3, 6), order=o["o3"], agreement=ava_always)
    b.entry(ava, "bonus", 250, at(3, 6), order=o["o3"], agreement=ava_always)
    b.entry(ava, "flat_fee", 5000, at(3, 10), agreement=ava_spring)
    b.entry(ava, "adjustment", -100, at(3, 15))
    b.entry(ava, "commission", 111, at(2, 15), order=o["o9"], agreement=ava_always)
    b.entry(ava, "flat_fee", 5000, at(2, 10), agreement=ava_spring)  # February
    b.entry(ben, "commission", 400, at(3, 8), order=o["o5"])
    b.entry(ben, "commission", 250, at(4, 10), order=o["o11"])
    b.entry(dee, "flat_fee", 3000, at(3, 12), agreement=dee_always)

    # Another shop, busy in March: none of it may show up.
    other = Builder(session, "other.example")
    zed = other.creator("zed")
    zed_link = other.link(zed, None)
    other.clicks(zed_link, at(3, 2), "v1", "v2", "v4")
    zed_order = other.order(at(3, 2), 99000, creator=zed, customer="c1", first=True)
    other.entry(zed, "commission", 9900, at(3, 2), order=zed_order)
    other.refund(zed_order, 1000, at(3, 3))

    # The rows above were written directly, not through the services: build their rollups.
    for shop in (b.shop, other.shop):
        rebuild_shop(same_transaction(session), shop.id)
    return Seed(b.shop, {c.handle: c for c in (ava, ben, cy, dee, eve)}, spring, o)


def same_transaction(session: Session) -> Callable[[], AbstractContextManager[Session]]:
    """A `transaction` for services that commit per step, inside the test's own transaction."""

    @contextmanager
    def transaction() -> Iterator[Session]:
        yield session
        session.flush()

    return transaction
