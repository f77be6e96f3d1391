"""The generic handlers that need no order service: coupons, uninstall, payload checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from connectors.base import MalformedPayload
from plugin.extensions import connectors, credentials
from plugin.ingest.handlers import app_uninstalled, coupon_changed, order_deleted
from plugin.ingest.registry import HandlerContext
from plugin.models import Creator, DiscountCode, Shop, WebhookEvent, utcnow
from plugin.tenancy import Tenant
from tests.ingest.conftest import enqueued


def _context(
    app: Flask, session: Session, shop: Shop, topic: str, payload: Any, **event: Any
) -> HandlerContext:
    return HandlerContext(
        session=session,
        event=WebhookEvent(
            shop_id=shop.id,
            platform=shop.platform,
            topic=topic,
            dedupe_key="k",
            body=b"",
            **event,
        ),
        shop=shop,
        connector=connectors(app).get(shop.platform),
        payload=payload,
        credentials=credentials(app),
    )


@pytest.fixture
def woo_shop(session: Session) -> Shop:
    shop = Shop(platform="woocommerce", domain="woo.example", public_key="pk_woo_example")
    session.add(shop)
    session.flush()
    return shop


def _code(session: Session, shop: Shop, code: str, platform_id: str | None) -> DiscountCode:
    tenant = Tenant(session, shop.id)
    creator = tenant.add(Creator(handle="ava"))
    session.flush()
    row = tenant.add(
        DiscountCode(
            creator_id=creator.id,
            code=code,
            code_normalized=code.lower(),
            status="active",
            platform_id=platform_id,
        )
    )
    session.flush()
    return row


@pytest.mark.parametrize(
    ("topic", "payload", "status"),
    [
        ("coupon.deleted", {"id": 719}, "deactivated"),
        ("coupon.updated", {"id": 719, "code": "ava10", "status": "trash"}, "deactivated"),
        (
            "coupon.updated",
            {"id": 719, "code": "ava10", "date_expires_gmt": "2020-01-01T00:00:00"},
            "deactivated",
        ),
        (
            "coupon.updated",
            {"id": 719, "code": "ava10", "date_expires_gmt": "2999-01-01T00:00:00"},
            "active",
        ),
    ],
    ids=["deleted", "trashed", "expired", "expires-later"],
)
def test_coupon_changes_in_the_store_update_our_code_status(
    app: Flask, session: Session, woo_shop: Shop, topic: str, payload: Any, status: str
) -> None:
    # given
    code = _code(session, woo_shop, "AVA10", platform_id="719")
    # when
    coupon_changed(_context(app, session, woo_shop, topic, payload))
    # then
    assert code.status == status


def test_a_store_event_never_reactivates_a_code_we_deactivated(
    app: Flask, session: Session, woo_shop: Shop
) -> None:
    # given a code we deactivated, shown usable again by the store (twice)
    code = _code(session, woo_shop, "AVA10", platform_id="719")
    code.status = "deactivated"
    usable = {"id": 719, "code": "ava10"}
    # when
    coupon_changed(_context(app, session, woo_shop, "coupon.updated", usable))
    session.commit()
    coupon_changed(_context(app, session, woo_shop, "coupon.updated", usable))
    session.commit()
    # then it stays deactivated, and is deactivated in the store again, once
    assert code.status == "deactivated"
    assert code.error == "the store showed this deactivated code as usable again"
    assert enqueued(app) == [("workers.jobs.codes.reassert_deactivation", (code.id,))]


def test_coupon_found_by_code_learns_its_platform_id(
    app: Flask, session: Session, woo_shop: Shop
) -> None:
    # given a code whose store id we never learned
    code = _code(session, woo_shop, "AVA10", platform_id=None)
    # when
    coupon_changed(_context(app, session, woo_shop, "coupon.updated", {"id": 719, "code": "ava10"}))
    # then
    assert (code.platform_id, code.status) == ("719", "active")


def test_coupons_of_another_shop_or_made_outside_tastemaker_are_left_alone(
    app: Flask, session: Session, woo_shop: Shop
) -> None:
    # given a code of another shop with the same store id
    other = Shop(platform="woocommerce", domain="other.example", public_key="pk_other_example")
    session.add(other)
    session.flush()
    theirs = _code(session, other, "AVA10", platform_id="719")
    # when our shop deletes its own coupon 719
    coupon_changed(_context(app, session, woo_shop, "coupon.deleted", {"id": 719}))
    # then
    assert theirs.status == "active"


def test_app_uninstalled_marks_the_shop_and_keeps_its_data(
    app: Flask, session: Session, woo_shop: Shop
) -> None:
    # given
    tenant = Tenant(session, woo_shop.id)
    tenant.add(Creator(handle="ava"))
    triggered = utcnow()
    # when
    app_uninstalled(_context(app, session, woo_shop, "app/uninstalled", {}, triggered_at=triggered))
    # then
    assert (woo_shop.status, woo_shop.uninstalled_at) == ("uninstalled", triggered)
    assert woo_shop.credentials_encrypted is None
    assert [creator.handle for creator in tenant.all(Creator)] == ["ava"]


def test_app_uninstalled_from_before_a_reinstall_is_ignored(
    app: Flask, session: Session, woo_shop: Shop
) -> None:
    # given a shop reinstalled after the uninstall was triggered
    woo_shop.installed_at = utcnow()
    stale = woo_shop.installed_at - timedelta(minutes=5)
    # when
    app_uninstalled(_context(app, session, woo_shop, "app/uninstalled", {}, triggered_at=stale))
    # then
    assert woo_shop.status == "active"


@pytest.mark.parametrize("payload", [{"id": "x"}, {}, [719], {"id": True}])
def test_order_deleted_without_a_numeric_id_is_malformed(
    app: Flask, session: Session, woo_shop: Shop, payload: Any
) -> None:
    with pytest.raises(MalformedPayload):
        order_deleted(_context(app, session, woo_shop, "order.deleted", payload))
