"""Demo part: four weeks of history for Glow Botanics, so every merchant page has something true
to show: daily clicks and orders for the charts, a paid payout batch and a waiting one, a running
referral sprint with a leaderboard, and Try & Tag switched on.

Orders go through the real webhook pipeline (the sandbox store, with past `placed_at`); the past
clicks are written as the click flush would have written them on those days (the redirect can
only record clicks that happen now).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from connectors.sandbox.store import SandboxStore, http_transport
from plugin.crypto import hash_email
from plugin.db import get_db
from plugin.demo.sandbox import BALM, MIST, SERUM, SHOP_DOMAIN
from plugin.extensions import credentials
from plugin.models import Click, Creator, Payout, ReferralLink, Shop, UgcPost
from plugin.services import payouts as payout_service
from plugin.services import rewards as reward_service
from plugin.services import sprints as sprint_service
from plugin.services import ugc as ugc_service
from plugin.tenancy import Tenant
from plugin.web.rewards_api_io import SETTINGS_INPUT, SPRINT_INPUT
from workers.backends import InProcessBackend
from workers.runtime import get_backend

DAYS = 27
# Clicks per day for each creator's link: a launch bump in week two, a dip at weekends.
DAILY_CLICKS = {"maya.glows": (6, 14), "leo.makeup": (3, 8), "sam.slowliving": (2, 6)}


def _clicks_on(handle: str, day: int) -> int:
    low, high = DAILY_CLICKS[handle]
    bump = high - low if 8 <= day <= 14 else (day * 7) % (high - low + 1)
    return low + bump - (2 if day % 7 in (5, 6) else 0)


def start(app: Flask, base_url: str) -> list[str]:
    now = datetime.now(UTC)
    with app.app_context():
        session = get_db(app).session()
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP_DOMAIN)).one()
        secret = credentials(app).open(shop.credentials_encrypted)["webhook_secret"]
        _pay_first_batch(session, shop)
        click_ids = _past_clicks(session, shop, now)
        session.commit()
    store = SandboxStore(SHOP_DOMAIN, secret, http_transport(base_url))
    store.clock = lambda: now  # deliveries stamped now; orders carry their own placed_at
    _past_orders(store, now, click_ids)
    _wait_for_jobs(app)
    with app.app_context():
        session = get_db(app).session()
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP_DOMAIN)).one()
        _programs(session, shop, now)
        waiting = payout_service.batch_payouts(session, shop.id, f"demo-{now:%Y-%m-%d}-weekly")
        session.commit()
    _wait_for_jobs(app)  # the approved Try & Tag post's reward code
    return [
        f"Glow Botanics history: {DAYS} days of clicks and orders, a paid payout batch, "
        f"{len(waiting)} payouts waiting, a running sprint, Try & Tag on:",
        f"  performance charts  {base_url}/admin/performance",
    ]


def _pay_first_batch(session: Any, shop: Shop) -> None:
    """The sandbox part's batch, approved and paid: the payout history and a paid batch's CSV."""
    for payout in session.scalars(
        select(Payout).where(Payout.shop_id == shop.id, Payout.status == "pending_approval")
    ):
        payout_service.approve_payout(session, shop.id, payout.id)
        payout_service.mark_paid(session, shop.id, payout.id, f"WISE-{payout.id:05d}")


def _past_clicks(session: Any, shop: Shop, now: datetime) -> dict[str, list[str]]:
    """Counted clicks on each past day; returns a few click ids per creator for click orders."""
    links = session.execute(
        select(ReferralLink, Creator.handle)
        .join(Creator, Creator.id == ReferralLink.creator_id)
        .where(ReferralLink.shop_id == shop.id)
    ).all()
    recent: dict[str, list[str]] = {}
    for link, handle in links:
        if handle not in DAILY_CLICKS:
            continue
        for day in range(DAYS, 0, -1):
            for n in range(_clicks_on(handle, day)):
                occurred = now - timedelta(days=day, hours=(n * 5) % 11, minutes=n * 7 % 60)
                uid = hashlib.sha256(f"{link.slug}:{day}:{n}".encode()).hexdigest()[:32]
                visitor = hashlib.sha256(f"visitor:{handle}:{day}:{n % 9}".encode()).hexdigest()
                session.add(
                    Click(
                        shop_id=shop.id,
                        link_id=link.id,
                        creator_id=link.creator_id,
                        click_uid=uid,
                        occurred_at=occurred,
                        visitor_hash=visitor,
                        referrer_host="instagram.com" if n % 2 else "tiktok.com",
                    )
                )
                if n == 0 and day % 3 == 0:
                    recent.setdefault(handle, []).append(uid)
    session.flush()
    return recent


def _past_orders(store: SandboxStore, now: datetime, click_ids: dict[str, list[str]]) -> None:
    shopper = iter(range(71_001, 71_500))

    def customer(first: bool = True) -> dict[str, Any]:
        number = next(shopper)
        return {
            "customer_id": number,
            "first_order": first,
            "customer_email_hash": hash_email(f"shopper{number}@example.net"),
        }

    for day in range(DAYS, 0, -1):
        placed = now - timedelta(days=day, hours=-2)
        if day % 2 == 0:
            store.place_order(
                [SERUM], discount_code="MAYA15", discount_bps=1500, placed_at=placed, **customer()
            )
        if day % 4 == 1:
            store.place_order(
                [BALM, MIST],
                discount_code="LEO10",
                discount_bps=1000,
                placed_at=placed,
                **customer(day % 8 == 1),
            )
        if day % 5 == 0:
            store.place_order([MIST], placed_at=placed, **customer())  # no creator involved
    # Orders after a click: the click ids of past days, each order an hour after its click.
    for handle, uids in click_ids.items():
        items = {"maya.glows": [SERUM, BALM], "leo.makeup": [BALM], "sam.slowliving": [MIST]}
        for index, uid in enumerate(uids):
            day = DAYS - 3 * index if handle == "maya.glows" else DAYS - 3 * index - 1
            if day < 1:
                continue
            store.place_order(
                items[handle],
                click_id=uid,
                placed_at=now - timedelta(days=max(day - 1, 1)),
                **customer(index % 2 == 0),
            )


def _programs(session: Any, shop: Shop, now: datetime) -> None:
    tenant = Tenant(session, shop.id)
    reward_service.save_program(
        tenant,
        SETTINGS_INPUT.validate(
            {
                "enabled": True,
                "discount_kind": "percentage",
                "discount_value": 1000,
                "code_valid_days": 30,
                "code_prefix": "GLOW",
                "require_order": False,
                "terms": "Post a photo or video with one of our products, tag @glowbotanics "
                "and keep it public for 30 days. One reward per order.",
            }
        ),
    )
    # Two shoppers' posts: one approved (its reward code is issued by the rewards job), one
    # waiting in the review queue.
    for email, url, handle, product in (
        ("lena@example.net", "https://www.instagram.com/p/GlowLena01/", "lena.daily", "1001"),
        ("omar@example.net", "https://www.tiktok.com/@omar.skin/video/7301", "omar.skin", "1003"),
    ):
        reward, _token = reward_service.submit(
            tenant,
            shop,
            reward_service.Submission(email=email, post_url=url, handle=handle, product_id=product),
        )
        if handle == "lena.daily":
            post = session.get(UgcPost, reward.ugc_post_id)
            ugc_service.moderate(tenant, post, "approve", actor="demo")
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    sprint_service.create_sprint(
        tenant,
        shop,
        SPRINT_INPUT.validate(
            {
                "name": "Serum launch sprint",
                "starts_at": (day - timedelta(days=10)).isoformat(),
                "ends_at": (day + timedelta(days=4)).isoformat(),
                "credit_per_order_minor": 500,
                "cap_per_creator_minor": 5_000,
            }
        ),
        now=now,
    )


def _wait_for_jobs(app: Flask) -> None:
    backend = get_backend(app)
    if isinstance(backend, InProcessBackend):
        backend.drain(timeout=120)
