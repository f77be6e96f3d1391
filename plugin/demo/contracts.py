"""Demo part: contracts in the sandbox store (runs after plugin.demo.sandbox).

- Maya: USD 150 flat fee split across three deliverables (one approved, so its USD 50 is in the
  ledger; one submitted without a disclosure, waiting for review; one due), version 1 accepted,
  then the merchant widened the usage rights: version 2 waits for her.
- Leo: USD 150 on signing, accepted (booked at once), one tutorial sent back with feedback.
- Ivy: a new creator with a draft agreement whose code and link go live when she accepts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from plugin.db import get_db
from plugin.models import Agreement, Creator, Shop, utcnow
from plugin.services import agreements as agreement_service
from plugin.services import creators as creator_service
from plugin.services import deliverables as work
from plugin.services.ledger import post_due_flat_fees
from plugin.services.links import create_link
from plugin.tenancy import Tenant

SHOP_DOMAIN = "glow-botanics.sandbox"


def start(app: Flask, base_url: str) -> list[str]:
    with app.app_context():
        token = _seed(app)
    if token is None:
        return []
    return [
        "Contracts (sandbox store):",
        f"  contracts in the admin   {base_url}/admin/contracts",
        f"  Ivy's agreement to sign {base_url}/creator/{token}/contract",
    ]


def _seed(app: Flask) -> str | None:
    session = get_db(app).session()
    shop = session.scalars(select(Shop).where(Shop.domain == SHOP_DOMAIN)).first()
    if shop is None:
        return None
    tenant = Tenant(session, shop.id)
    creators = {c.handle: c for c in tenant.all(Creator)}
    now = utcnow()

    def day(offset: int) -> str:
        return (now + timedelta(days=offset)).replace(hour=23, minute=59, microsecond=0).isoformat()

    maya, leo = creators["maya.glows"], creators["leo.makeup"]
    maya_terms = tenant.first(Agreement, Agreement.creator_id == maya.id)
    leo_terms = tenant.first(Agreement, Agreement.creator_id == leo.id)
    assert maya_terms is not None
    assert leo_terms is not None
    creator_service.update_agreement(
        tenant,
        maya_terms,
        {
            "flat_fee_minor": 15_000,
            "payment_schedule": "on_delivery",
            "usage_rights_channels": ["instagram", "website"],
            "exclusivity": "No other serum brands in your Stories during the campaign.",
            "termination_terms": "Either side, 14 days' notice by email.",
            "deliverables": [
                {"kind": "Instagram story", "quantity": 3, "due_at": day(-6), "notes": "serum AM"},
                {"kind": "Instagram reel", "due_at": day(-1), "notes": "30-second routine"},
                {"kind": "TikTok video", "due_at": day(12), "notes": "before/after"},
            ],
        },
    )
    _accept(tenant, shop, maya_terms, maya)
    stories, reel, _tiktok = work.for_agreement(tenant, maya_terms.id)
    work.submit(
        tenant,
        stories,
        maya,
        post_url="https://www.instagram.com/stories/maya.glows/3301/",
        caption="#ad My morning glow: Rose Glow Serum, code MAYA15",
        notes="Three frames, swipe-up to the serum.",
    )
    work.review(tenant, stories, "approve", "Lovely, thank you!")
    work.submit(
        tenant,
        reel,
        maya,
        post_url="https://www.instagram.com/reel/C9maya42/",
        caption="30 seconds to glowy skin with @glowbotanics serum",
    )
    creator_service.update_agreement(
        tenant, maya_terms, {"usage_rights_days": 180, "usage_rights_territory": "US, CA, UK"}
    )

    creator_service.update_agreement(
        tenant,
        leo_terms,
        {
            "flat_fee_minor": 15_000,
            "payment_schedule": "on_signing",
            "deliverables": [{"kind": "TikTok tutorial", "due_at": day(5), "notes": "lip balm"}],
        },
    )
    _accept(tenant, shop, leo_terms, leo)
    (tutorial,) = work.for_agreement(tenant, leo_terms.id)
    work.submit(
        tenant, tutorial, leo, post_url="https://www.tiktok.com/@leo.makeup/video/71", caption=""
    )
    work.review(tenant, tutorial, "request_changes", "Please add #ad at the start of the caption.")

    ivy = creator_service.create_creator(
        tenant,
        {"handle": "ivy.skin", "name": "Ivy Chen", "email": "ivy@example.com"},
    )
    session.flush()
    creator_service.create_agreement(
        tenant,
        _ivy_terms(ivy, day),
    )
    creator_service.create_discount_code(
        tenant, {"creator_id": ivy.id, "code": "IVY10", "kind": "percentage", "value": 1000}
    )
    create_link(session, shop.id, ivy.id, target_path="/products/dew-face-mist")
    token = creator_service.issue_portal_token(tenant, ivy)
    post_due_flat_fees(session, shop, utcnow())
    session.commit()
    return token


def _ivy_terms(ivy: Creator, day: Any) -> dict[str, Any]:
    return {
        "creator_id": ivy.id,
        "status": "draft",
        "commission_rate_bps": 1000,
        "flat_fee_minor": 10_000,
        "payment_schedule": "monthly",
        "usage_rights_days": 90,
        "usage_rights_territory": "US",
        "usage_rights_channels": ["instagram", "email"],
        "live_on_acceptance": True,
        "bonus_tiers": [{"min_orders": 10, "extra_rate_bps": 200}],
        "deliverables": [{"kind": "Instagram reel", "due_at": day(20), "notes": "face mist"}],
    }


def _accept(tenant: Tenant, shop: Shop, agreement: Agreement, creator: Creator) -> None:
    current = agreement_service.version(tenant, agreement, agreement.terms_version)
    assert current is not None
    _clauses, shown = agreement_service.document_for(current.terms, shop)
    agreement_service.accept(
        tenant,
        agreement,
        creator,
        version_number=agreement.terms_version,
        shown_hash=shown,
        user_agent="demo seed",
    )
