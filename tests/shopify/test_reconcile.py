"""Reconciliation through the core's periodic path with the Shopify connector and the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.shopify.simulator import ShopifySimulator
from connectors.shopify.webhooks import sign
from plugin.ingest.reconcile import reconcile_shop
from plugin.models import Order, Shop
from tests.shopify.conftest import API_SECRET, SHOP, fixture_bytes, install_shop


def installed_long_ago(app: Flask, session: Session, simulator: ShopifySimulator) -> int:
    shop = install_shop(app, session, simulator)
    shop.last_synced_at = datetime(2000, 1, 1, tzinfo=UTC)
    session.commit()
    return shop.id


def orders(session: Session) -> list[tuple[int, int]]:
    session.expire_all()
    return [
        (o.platform_order_id, o.total_minor)
        for o in session.scalars(select(Order).order_by(Order.platform_order_id))
    ]


def test_orders_shopify_never_delivered_are_recovered(
    app: Flask, session: Session, simulator: ShopifySimulator
) -> None:
    # given two orders in the store and no webhook received
    shop_id = installed_long_ago(app, session, simulator)
    simulator.seed_fixture_orders(SHOP)
    # when
    applied = reconcile_shop(session, shop_id)
    # then
    assert applied == 2
    assert orders(session) == [(450789469, 59894), (1073459981, 18109)]
    assert session.get(Shop, shop_id).last_synced_at > datetime(2000, 1, 1, tzinfo=UTC)  # type: ignore[union-attr, operator]


def test_an_order_seen_by_webhook_and_by_reconciliation_counts_once(
    app: Flask,
    client: FlaskClient,
    session: Session,
    simulator: ShopifySimulator,
    run_jobs: Any,
) -> None:
    # given the order arrived by webhook
    shop_id = installed_long_ago(app, session, simulator)
    body = fixture_bytes("orders-create-with-discount-code.json")
    client.post(
        "/webhooks/shopify",
        data=body,
        headers={
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": sign(body, API_SECRET),
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Event-Id": "evt-1",
        },
    )
    run_jobs()
    simulator.seed_fixture_orders(SHOP)
    # when reconciliation reads it again, twice
    reconcile_shop(session, shop_id)
    reconcile_shop(session, shop_id)
    # then there is still one row per order
    assert orders(session) == [(450789469, 59894), (1073459981, 18109)]
