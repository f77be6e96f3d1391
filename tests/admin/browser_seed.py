"""A small, realistic shop committed to a file-backed SQLite database for the browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from plugin.models import Agreement, Click, utcnow
from plugin.services.creators import issue_portal_token
from plugin.services.metrics_rebuild import rebuild_shop
from plugin.services.payouts import batch_payouts
from plugin.tenancy import Tenant
from tests.admin.factories import (
    make_attribution,
    make_code,
    make_creator,
    make_entry,
    make_key,
    make_link,
    make_order,
    make_shop,
)
from tests.metrics.conftest import same_transaction


@dataclass(frozen=True)
class Seeded:
    api_key: str
    portal_token: str
    shop_id: int


def seed(session: Session) -> Seeded:
    now = utcnow()
    shop = make_shop(session, "loom-and-thread.example", payout_minimum_minor=1_000)
    shop.name = "Loom & Thread"
    key = make_key(session, shop)
    anna = make_creator(
        session, shop, "anna.knits", name="Anna Berg", payout_email="anna@pay.example"
    )
    ben = make_creator(session, shop, "ben_makes", name="Ben Osei")
    cleo = make_creator(session, shop, "cleo.studio", name="Cleo Ruiz", status="paused")
    for creator, rate in ((anna, 1_200), (ben, 1_000), (cleo, 800)):
        session.add(Agreement(shop_id=shop.id, creator_id=creator.id, commission_rate_bps=rate))
    make_code(session, shop, anna, "ANNA15", status="active", value=1_500, platform_id="s-1")
    make_code(session, shop, ben, "BEN10", status="active", value=1_000, platform_id="s-2")
    make_code(session, shop, ben, "KNITS", status="taken", alternatives=["KNITS1", "KNITS2"])
    make_code(session, shop, cleo, "CLEO10", status="deactivated")
    anna_link = make_link(session, shop, anna, target_path="/products/merino-scarf")
    ben_link = make_link(session, shop, ben, target_path="/collections/yarn")
    make_link(session, shop, cleo)
    for n, (link, creator) in enumerate([(anna_link, anna)] * 42 + [(ben_link, ben)] * 17):
        session.add(
            Click(
                shop_id=shop.id,
                link_id=link.id,
                creator_id=creator.id,
                click_uid=f"c{n:05d}",
                occurred_at=now - timedelta(days=5, minutes=n),
                visitor_hash=f"v{n % 31}",
            )
        )
    orders = [
        (anna, "#1041", 8_900, 40, "code", "ANNA15", True),
        (anna, "#1044", 12_400, 12, "click", None, True),
        (anna, "#1047", 5_600, 3, "code", "ANNA15", False),
        (ben, "#1045", 7_200, 35, "landing", None, True),
        (ben, "#1049", 4_100, 2, "code", "BEN10", False),
    ]
    for creator, number, revenue, days_ago, method, code, first in orders:
        placed = now - timedelta(days=days_ago)
        order = make_order(
            session,
            shop,
            order_number=number,
            placed_at=placed,
            paid_at=placed,
            net_item_revenue_minor=revenue,
            total_minor=revenue + 900,
            is_first_order=first,
        )
        candidates = (
            [{"source": "discount_code", "value": code, "verdict": "chosen"}]
            if code
            else [
                {
                    "source": "click_id" if method == "click" else "landing_ref",
                    "value": "tm_8Kd2",
                    "verdict": "chosen",
                }
            ]
        )
        make_attribution(
            session, shop, order, creator, method=method, evidence={"candidates": candidates}
        )
        rate = 1_200 if creator is anna else 1_000
        make_entry(
            session,
            shop,
            creator,
            revenue * rate // 10_000,
            order=order,
            available_at=placed + timedelta(days=30),
            reason=f"order {number}: {rate} bps of {revenue / 100:.2f} item revenue",
        )
    walk_in = make_order(session, shop, order_number="#1046", placed_at=now - timedelta(days=6))
    make_attribution(session, shop, walk_in, None, evidence={"candidates": []})
    batch_payouts(session, shop.id, "daily-" + (now - timedelta(days=1)).date().isoformat())
    token = issue_portal_token(Tenant(session, shop.id), anna)
    # The rows above were written directly, not through the services: build their rollups.
    rebuild_shop(same_transaction(session), shop.id)
    session.commit()
    return Seeded(api_key=key, portal_token=token, shop_id=shop.id)
