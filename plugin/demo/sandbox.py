"""Demo part: a sandbox store with creators, codes, links, clicks, orders, refunds and payouts.

Everything after the seed goes through the real HTTP endpoints: clicks are GET /r/<slug>, orders
are signed webhooks from the simulated store, payouts come from the payout service.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask

from connectors.sandbox.store import Item, SandboxStore, http_transport
from plugin import background
from plugin.crypto import hash_email
from plugin.db import get_db
from plugin.extensions import credentials
from plugin.models import ReferralLink
from plugin.services import creators as creator_service
from plugin.services.links import create_link
from plugin.services.payouts import batch_payouts
from plugin.services.shops import create_or_reinstall_shop, issue_api_key
from plugin.tenancy import Tenant
from plugin.web.admin_api.agreements import AGREEMENT_INPUT
from plugin.web.admin_api.campaigns import CAMPAIGN_INPUT
from workers.backends import InProcessBackend
from workers.runtime import get_backend

SHOP_DOMAIN = "glow-botanics.sandbox"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile"
SERUM = Item(product_id=1001, variant_id=2001, title="Rose Glow Serum", unit_price_minor=3400)
BALM = Item(product_id=1002, variant_id=2002, title="Cloud Lip Balm", unit_price_minor=1200)
MIST = Item(product_id=1003, variant_id=2003, title="Dew Face Mist", unit_price_minor=2200)

CREATORS = (
    {
        "handle": "maya.glows",
        "name": "Maya Ortiz",
        "email": "maya@example.com",
        "niche": "skincare",
        "audience_size": 24_000,
        "engagement_rate_bps": 480,
        "social_handles": {"instagram": "@maya.glows"},
        "payout_email": "maya@example.com",
    },
    {
        "handle": "leo.makeup",
        "name": "Leo Park",
        "email": "leo@example.com",
        "niche": "makeup tutorials",
        "audience_size": 8_200,
        "engagement_rate_bps": 910,
        "social_handles": {"tiktok": "@leo.makeup"},
        "payout_email": "leo@example.com",
    },
    {
        "handle": "sam.slowliving",
        "name": "Sam Reed",
        "email": "sam@example.com",
        "niche": "lifestyle",
        "audience_size": 61_000,
        "engagement_rate_bps": 230,
        "social_handles": {"youtube": "@samslowliving"},
        "payout_email": "sam@example.com",
    },
)


def start(app: Flask, base_url: str) -> list[str]:
    with app.app_context():
        seeded = _seed(app)
    _wait_for_jobs(app)
    slugs = seeded["slugs"]
    clicks = {}
    for handle, slug, visitors in (
        ("maya.glows", slugs["maya.glows"], 18),
        ("leo.makeup", slugs["leo.makeup"], 9),
        ("sam.slowliving", slugs["sam.slowliving"], 14),
    ):
        # Distinct visitors (the demo has one IP, so the user agent tells them apart).
        clicks[handle] = [
            _click(base_url, slug, f"{BROWSER} demo-visitor/{n}") for n in range(visitors)
        ][-1]
    _click(base_url, slugs["maya.glows"], user_agent="facebookexternalhit/1.1")  # not counted
    with app.app_context():
        background.run_here(background.FLUSH_CLICKS)  # the periodic flush does it within seconds
    _place_orders(seeded["webhook_secret"], base_url, clicks)
    _wait_for_jobs(app)
    with app.app_context():
        session = get_db(app).session()
        payouts = batch_payouts(session, seeded["shop_id"], f"demo-{datetime.now(UTC):%Y-%m-%d}")
        session.commit()
    key = seeded["api_key"]
    return [
        "Sandbox store 'Glow Botanics' (3 creators, 2 campaigns, codes, links, orders):",
        f"  merchant admin      {base_url}/admin  (sign in with the API key below)",
        f"  creator page (Maya) {base_url}/creator/{seeded['portal_token']}",
        f"  referral link       {base_url}/r/{slugs['maya.glows']}",
        f"  admin API           curl -H 'Authorization: Bearer {key}' {base_url}/api/v1/creators",
        f"  API description     {base_url}/openapi.json",
        f"  payouts awaiting approval in the admin: {len(payouts)}",
    ]


def _seed(app: Flask) -> dict[str, Any]:
    session = get_db(app).session()
    webhook_secret = secrets.token_urlsafe(24)
    shop = create_or_reinstall_shop(
        session,
        credentials(app),
        platform="sandbox",
        domain=SHOP_DOMAIN,
        credentials={"webhook_secret": webhook_secret},
        currency="USD",
        name="Glow Botanics",
    )
    shop.hold_days = 0  # the demo shows payable balances at once; real shops keep 30
    shop.payout_minimum_minor = 200
    tenant = Tenant(session, shop.id)
    _, api_key = issue_api_key(session, shop.id, label="demo")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # Seeded values go through the API's own schemas, so the demo never holds what the API
    # would refuse.
    stories = creator_service.create_campaign(
        tenant,
        CAMPAIGN_INPUT.validate(
            {
                "name": "Spring glow stories",
                "format": "shoppable_story",
                "primary_kpi": "revenue",
                "kpi_target": 200_000,
                "starts_at": (today - timedelta(days=27)).isoformat(),
                "ends_at": (today + timedelta(days=14)).isoformat(),
                "budget_minor": 150_000,
                "brief": "Three Stories with the serum in your morning routine.",
            }
        ),
    )
    tutorials = creator_service.create_campaign(
        tenant,
        CAMPAIGN_INPUT.validate(
            {
                "name": "20-second tutorials",
                "format": "micro_tutorial",
                "primary_kpi": "clicks",
                "kpi_target": 450,
                "starts_at": (today - timedelta(days=20)).isoformat(),
                "ends_at": (today + timedelta(days=10)).isoformat(),
                "budget_minor": 80_000,
                "brief": "One product, one look, twenty seconds.",
            }
        ),
    )
    people = [creator_service.create_creator(tenant, values) for values in CREATORS]
    maya, leo, sam = people
    session.flush()
    terms = (
        (maya, stories, 1200, 5_000, [{"min_orders": 2, "extra_rate_bps": 300}]),
        (leo, tutorials, 1000, 0, []),
        (sam, stories, 800, 0, []),
    )
    for creator, campaign, rate, fee, tiers in terms:
        values = AGREEMENT_INPUT.validate(
            {
                "creator_id": creator.id,
                "campaign_id": campaign.id,
                "commission_rate_bps": rate,
                "flat_fee_minor": fee,
                "bonus_tiers": tiers,
                "payment_schedule": "monthly",
                "usage_rights_days": 90,
                "usage_rights_territory": "US, CA",
                "deliverables": [{"kind": "story", "quantity": 3}],
            }
        )
        creator_service.create_agreement(tenant, values)
    codes = {
        "maya.glows": creator_service.create_discount_code(
            tenant, {"creator_id": maya.id, "code": "MAYA15", "kind": "percentage", "value": 1500}
        ),
        "leo.makeup": creator_service.create_discount_code(
            tenant, {"creator_id": leo.id, "code": "LEO10", "kind": "percentage", "value": 1000}
        ),
    }
    slugs = {}
    for creator, campaign, path in (
        (maya, stories, "/products/rose-glow-serum"),
        (leo, tutorials, "/products/cloud-lip-balm"),
        (sam, stories, "/"),
    ):
        code = codes.get(creator.handle)
        link: ReferralLink = create_link(
            session,
            shop.id,
            creator.id,
            target_path=path,
            campaign_id=campaign.id,
            discount_code_id=code.id if code else None,
        )
        slugs[creator.handle] = link.slug
    portal_token = creator_service.issue_portal_token(tenant, maya)
    session.commit()
    return {
        "shop_id": shop.id,
        "api_key": api_key,
        "slugs": slugs,
        "webhook_secret": webhook_secret,
        "portal_token": portal_token,
    }


def _click(base_url: str, slug: str, user_agent: str = BROWSER) -> str | None:
    response = requests.get(
        f"{base_url}/r/{slug}",
        headers={"User-Agent": user_agent},
        allow_redirects=False,
        timeout=10,
    )
    values = parse_qs(urlsplit(response.headers.get("Location", "")).query).get("tm_click")
    return values[0] if values else None


def _place_orders(secret: str, base_url: str, clicks: dict[str, str | None]) -> None:
    store = SandboxStore(SHOP_DOMAIN, secret, http_transport(base_url))
    shopper = iter(range(70_001, 70_100))

    def customer(first: bool = True) -> dict[str, Any]:
        number = next(shopper)
        return {
            "customer_id": number,
            "first_order": first,
            "customer_email_hash": hash_email(f"shopper{number}@example.net"),
        }

    store.place_order(
        [SERUM],
        discount_code="MAYA15",
        discount_bps=1500,
        tax_minor=250,
        shipping_minor=500,
        **customer(),
    )
    store.place_order([SERUM, BALM], click_id=clicks["maya.glows"], **customer())
    store.place_order([MIST], discount_code="maya15", discount_bps=1500, **customer(False))
    leo_order = store.place_order(
        [BALM, BALM], discount_code="LEO10", discount_bps=1000, **customer()
    )
    store.refund(leo_order["id"], item_amount_minor=1080)
    cancelled = store.place_order([SERUM], discount_code="LEO10", discount_bps=1000, **customer())
    store.cancel(cancelled["id"])
    store.place_order([MIST, BALM], click_id=clicks["sam.slowliving"], **customer())
    # Maya buying with her own code: recorded, flagged as self-referral, not commissioned.
    store.place_order(
        [BALM],
        discount_code="MAYA15",
        discount_bps=1500,
        customer_email_hash=hash_email("maya@example.com"),
    )
    for _ in range(3):  # orders no creator drove: the baseline for uplift
        store.place_order([MIST], **customer())
    store.place_order([SERUM], discount_code="MAYA15", test=True)  # test orders never count
    retry = store.deliveries[0]
    store.redeliver(retry)  # the platform retrying a delivery changes nothing


def _wait_for_jobs(app: Flask) -> None:
    backend = get_backend(app)
    if isinstance(backend, InProcessBackend):
        backend.drain(timeout=60)
