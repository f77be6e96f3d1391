"""Programs, catalog rows, submissions, orders and sprints for reward tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from plugin.models import Creator, Order, Shop, utcnow
from plugin.models.rewards import ReferralSprint, TryAndTagProgram
from plugin.models.ugc import ProductSnapshot, Reward
from plugin.services import rewards as service
from plugin.tenancy import Tenant
from tests.admin.factories import make_attribution, make_order

PRODUCT = "8001"


def open_program(session: Session, shop: Shop, **fields: Any) -> TryAndTagProgram:
    # These programs skip the post check (fetching the post), which tests/rewards/
    # test_post_checks.py exercises against a local oEmbed server.
    values = {
        "enabled": True,
        "discount_kind": "percentage",
        "discount_value": 1500,
        "verify_posts": False,
        **fields,
    }
    program = service.save_program(Tenant(session, shop.id), values)
    session.add(
        ProductSnapshot(
            shop_id=shop.id,
            product_id=PRODUCT,
            title="Linen Overshirt",
            price_minor=6800,
            currency=shop.currency,
            variant_id="9001",
        )
    )
    session.flush()
    return program


def submission(**fields: str) -> service.Submission:
    values = {
        "email": "Shopper@Example.com",
        "post_url": "https://www.instagram.com/p/Cx1/",
        "handle": "@lena.daily",
        "product_id": PRODUCT,
        **fields,
    }
    return service.Submission(**values)


def submit(session: Session, shop: Shop, **fields: str) -> tuple[Reward, str]:
    reward, token = service.submit(Tenant(session, shop.id), shop, submission(**fields))
    session.commit()
    return reward, token


def paid_order(
    session: Session,
    shop: Shop,
    creator: Creator | None,
    placed_at: datetime,
    *,
    self_referral: bool = False,
    campaign_id: int | None = None,
    **fields: Any,
) -> Order:
    fields.setdefault("paid_at", placed_at + timedelta(minutes=5))
    order = make_order(session, shop, placed_at=placed_at, **fields)
    make_attribution(
        session, shop, order, creator, self_referral=self_referral, campaign_id=campaign_id
    )
    return order


def make_sprint(
    session: Session,
    shop: Shop,
    starts_at: datetime,
    ends_at: datetime,
    *,
    credit: int = 50,
    cap: int | None = None,
    **fields: Any,
) -> ReferralSprint:
    sprint = ReferralSprint(
        shop_id=shop.id,
        name=fields.pop("name", "November sprint"),
        starts_at=starts_at,
        ends_at=ends_at,
        credit_per_order_minor=credit,
        cap_per_creator_minor=cap,
        currency=shop.currency,
        **fields,
    )
    session.add(sprint)
    session.flush()
    return sprint


def hours_ago(hours: float) -> datetime:
    return utcnow() - timedelta(hours=hours)
