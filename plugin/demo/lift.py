"""Demo part: a running staggered-launch lift test in the sandbox store, with enough history and
sales to show a result (simulated: 28 days before launch, 24 since, true incremental share 0.6).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import get_db
from plugin.demo.lift_store import PROMOTED, OrderWriter, simulate_sales, write_sales
from plugin.models import Agreement, Creator, LiftTest, Shop, utcnow
from plugin.services import creators as creator_service
from plugin.services import lift as lifecycle
from plugin.services.ledger import post_entry
from plugin.tenancy import Tenant

SHOP_DOMAIN = "glow-botanics.sandbox"
EXTRA_CREATORS = ("nina.skin", "omar.routine", "priya.glow", "quinn.cleanbeauty", "rosa.spf")
FLAT_FEE_MINOR = 12_000
HISTORY_DAYS = 28
DAYS_SINCE_LAUNCH = 24
TRUE_INCREMENTAL_SHARE = 0.6
DEMO_SEED = 2026


def seed_lift_test(session: Session, shop: Shop, now: datetime) -> LiftTest:
    tenant = Tenant(session, shop.id)
    campaign = creator_service.create_campaign(
        tenant,
        {
            "name": "Autumn serum drop",
            "format": "shoppable_story",
            "budget_minor": 200_000,
            "brief": "One Story a week with the serum; your go-live date is on your page.",
        },
    )
    creators = tenant.all(Creator)
    for handle in EXTRA_CREATORS:
        creators.append(tenant.add(Creator(handle=handle, name=handle.split(".")[0].title())))
    session.flush()
    for creator in creators:
        agreement = tenant.add(
            Agreement(creator_id=creator.id, campaign_id=campaign.id, flat_fee_minor=FLAT_FEE_MINOR)
        )
        session.flush()
        post_entry(
            session,
            shop.id,
            creator_id=creator.id,
            agreement_id=agreement.id,
            kind="flat_fee",
            amount_minor=FLAT_FEE_MINOR,
            currency=shop.currency,
            available_at=now,
            idempotency_key=f"demo-lift-fee-{agreement.id}",
            reason="Autumn serum drop: flat fee",
        )
    test = lifecycle.create_test(
        tenant,
        {
            "campaign_id": campaign.id,
            "design": "staggered",
            "name": "Autumn serum drop: staggered launch",
            "waves": 4,
            "wave_days": 7,
            "product_ids": list(PROMOTED),
            "baseline_days": HISTORY_DAYS,
        },
    )
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    launched = midnight - timedelta(days=DAYS_SINCE_LAUNCH)
    lifecycle.launch(tenant, test, now=launched)
    codes = _campaign_codes(tenant, creators, campaign.id)  # held until each creator's wave
    lifecycle.activate_due(session, now, shop_id=shop.id)  # what the periodic job did since
    first = launched - timedelta(days=HISTORY_DAYS)
    go_live = {
        row.creator_id: (row.starts_at - first).days
        for row in lifecycle.assignments(tenant, test.id)
    }
    rng = np.random.default_rng(DEMO_SEED)  # the same simulated sales in every demo
    sales, _truth = simulate_sales(
        rng,
        first.date(),
        HISTORY_DAYS + DAYS_SINCE_LAUNCH,
        go_live,
        TRUE_INCREMENTAL_SHARE,
        baseline=40,
        reach_share=0.7,
    )
    write_sales(OrderWriter(session, shop.id, shop.currency), rng, first, sales, campaign.id, codes)
    return test


def _campaign_codes(tenant: Tenant, creators: list[Creator], campaign_id: int) -> dict[int, str]:
    """Each active creator's code for the campaign, e.g. NINASKIN10, issued after the launch as
    a merchant would: the lift test holds it until the creator's go-live date."""
    agreements = {
        a.creator_id: a for a in tenant.all(Agreement, Agreement.campaign_id == campaign_id)
    }
    codes = {}
    for creator in creators:
        if creator.status != "active":
            continue
        name = re.sub(r"[^A-Za-z0-9]", "", creator.handle).upper()[:20] + "10"
        creator_service.create_discount_code(
            tenant,
            {
                "creator_id": creator.id,
                "agreement_id": agreements[creator.id].id,
                "code": name,
                "kind": "percentage",
                "value": 1000,
            },
        )
        codes[creator.id] = name
    return codes


def start(app: Flask, base_url: str) -> list[str]:
    with app.app_context():
        session = get_db(app).session()
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP_DOMAIN)).one()
        test = seed_lift_test(session, shop, utcnow())
        session.commit()
        test_id = test.id
    return [
        "Lift test (simulated sales, a staggered launch in 4 waves, running):",
        f"  lift test page      {base_url}/admin/lift-tests/{test_id}",
    ]
