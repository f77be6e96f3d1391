"""WooCommerce deliveries through the real route, inbox, processing and order services."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.woocommerce import webhooks
from connectors.woocommerce.client import Pacer
from connectors.woocommerce.simulator import Item, SimulatedStore
from plugin import create_app
from plugin.extensions import connectors
from plugin.models import DiscountCode, LedgerEntry, Order, Refund, Shop
from plugin.settings import Settings
from tests.engine.factories import make_agreement, make_code, make_creator
from tests.ingest.conftest import events
from tests.woocommerce.conftest import (
    WEBHOOK_SECRET,
    app_context_for,
    client_transport,
    statuses,
)
from workers.jobs.periodic import reconcile_shop
from workers.jobs.webhooks import replay_spool
from workers.jobs.woocommerce import register_woocommerce_webhooks

ROUTE = "/webhooks/woocommerce"
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/test"
SHIRT = Item("Linen shirt", 93, 1, "40.00")


@pytest.fixture
def connected(shop: Shop, wire: SimulatedStore, session: Session) -> SimulatedStore:
    """The store with our webhooks registered, and a creator whose code exists in the store."""
    register_woocommerce_webhooks(shop.id)
    alice = make_creator(session, shop, "alice")
    agreement = make_agreement(session, shop, alice, rate_bps=1000)
    created = wire.create_coupon("alice10")
    make_code(session, shop, alice, "ALICE10", agreement=agreement, platform_id=str(created["id"]))
    session.commit()
    return wire


def orders(session: Session) -> list[Order]:
    session.expire_all()
    return list(session.scalars(select(Order).order_by(Order.platform_order_id)))


def refunds(session: Session) -> list[tuple[int, int, int]]:
    session.expire_all()
    rows = session.scalars(select(Refund).order_by(Refund.platform_refund_id))
    return [(r.platform_refund_id, r.item_amount_minor, r.total_amount_minor) for r in rows]


def ledger(session: Session) -> list[tuple[str, int]]:
    session.expire_all()
    rows = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))
    return [(e.idempotency_key, e.amount_minor) for e in rows]


def test_a_signed_order_is_recorded_applied_and_earns_commission(
    session: Session, connected: SimulatedStore, run_jobs: Any, shop: Shop
) -> None:
    # when a shopper checks out with the creator's coupon after a referral click
    placed = connected.place_order([SHIRT], coupon_code="ALICE10", click_id="c_abc123")
    run_jobs()
    # then the delivery was accepted, recorded once and applied
    assert statuses(connected.deliveries) == [200]
    [event] = events(session)
    assert (event.topic, event.shop_id, event.status) == ("order.created", shop.id, "processed")
    [order] = orders(session)
    assert (order.platform_order_id, order.status, order.total_minor) == (
        placed["id"],
        "paid",
        4100,
    )
    assert (order.net_item_revenue_minor, order.discount_codes, order.click_uid) == (
        3600,
        ["alice10"],
        "c_abc123",
    )
    assert ledger(session) == [(f"commission:{placed['id']}", 360)]


def test_a_duplicate_delivery_is_recorded_once(
    client: FlaskClient, session: Session, connected: SimulatedStore, run_jobs: Any
) -> None:
    # given an order delivered once
    placed = connected.place_order([SHIRT], coupon_code="alice10")
    # when WooCommerce sends the same state again (new delivery id, same body)
    again = connected.deliver("order.created", placed)
    run_jobs()
    # then both answers were 2xx and one event and one commission exist
    assert statuses(connected.deliveries) == [200, 200]
    assert (
        again[0].headers["X-WC-Webhook-Delivery-ID"]
        != connected.deliveries[0].headers["X-WC-Webhook-Delivery-ID"]
    )
    assert len(events(session)) == 1
    assert ledger(session) == [(f"commission:{placed['id']}", 360)]


def _headers(body: bytes, signature: str | None, source: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-ID": "1",
    }
    if signature is not None:
        headers["X-WC-Webhook-Signature"] = signature
    return headers


@pytest.mark.parametrize(
    ("signature", "reason"),
    [(None, "missing_signature"), ("forged", "bad_signature"), ("", "missing_signature")],
)
def test_forged_and_missing_signatures_are_refused_and_nothing_is_stored(
    client: FlaskClient,
    session: Session,
    connected: SimulatedStore,
    signature: str | None,
    reason: str,
) -> None:
    # given an order body signed with the wrong secret, or not at all
    body = json.dumps({"id": 999, "status": "completed"}).encode()
    signed = webhooks.sign(body, "not-the-shop-secret") if signature == "forged" else signature
    # when
    response = client.post(ROUTE, data=body, headers=_headers(body, signed, connected.home_url))
    # then
    assert (response.status_code, response.get_json()) == (401, {"error": reason})
    assert events(session) == []


def test_the_creation_ping_gets_exactly_200_and_nothing_is_stored(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    response = client.post(
        ROUTE, data=b"webhook_id=142", content_type="application/x-www-form-urlencoded"
    )
    assert (response.status_code, response.data) == (200, b"")
    assert events(session) == []


def test_a_signed_topic_we_did_not_ask_for_is_answered_200_and_dropped(
    client: FlaskClient, session: Session, shop: Shop, store: SimulatedStore
) -> None:
    body = b'{"id":1}'
    headers = {
        **_headers(body, webhooks.sign(body, WEBHOOK_SECRET), store.home_url),
        "X-WC-Webhook-Topic": "product.updated",
    }
    response = client.post(ROUTE, data=body, headers=headers)
    assert response.status_code == 200
    assert events(session) == []


def test_out_of_order_updates_end_in_the_newest_state(
    client: FlaskClient, session: Session, connected: SimulatedStore, run_jobs: Any
) -> None:
    # given an order created pending, then paid, then cancelled, with deliveries held back
    held: list[tuple[bytes, Mapping[str, str]]] = []
    connected.transport = lambda url, body, headers: held.append((body, headers)) or 200
    placed = connected.place_order([SHIRT], status="pending", coupon_code="alice10")
    connected.update_order(placed["id"], status="processing")
    connected.update_order(placed["id"], status="cancelled")
    # when they arrive newest first
    answers = [
        client.post(ROUTE, data=body, headers=dict(headers)).status_code
        for body, headers in reversed(held)
    ]
    run_jobs()
    # then every delivery was accepted and the order ends cancelled, its commission reversed
    assert answers == [200, 200, 200]
    [order] = orders(session)
    assert order.status == "cancelled"
    assert [event.status for event in events(session)] == ["processed"] * 3
    assert ledger(session) == [
        (f"commission:{placed['id']}", 360),
        (f"reversal:{placed['id']}:cancel", -360),
    ]


def test_partial_refunds_are_recorded_per_refund_and_reverse_commission(
    session: Session, connected: SimulatedStore, run_jobs: Any
) -> None:
    # given a 41.00 order (36.00 of items after the coupon, 5.00 shipping)
    placed = connected.place_order([SHIRT], coupon_code="alice10")
    # when the merchant refunds 10.00, then the remaining 31.00
    connected.refund_order(placed["id"], "10.00")
    run_jobs()
    first_status = orders(session)[0].status
    connected.refund_order(placed["id"], "31.00")
    run_jobs()
    # then each refund is kept once with its item share, and the order ends refunded
    refund_ids = sorted(r["id"] for r in connected.orders[placed["id"]]["refunds"])
    assert first_status == "partially_refunded"
    assert refunds(session) == [(refund_ids[0], 878, 1000), (refund_ids[1], 2722, 3100)]
    assert orders(session)[0].status == "refunded"
    assert sum(amount for _, amount in ledger(session)) == 0


def test_a_deleted_order_is_cancelled(
    session: Session, connected: SimulatedStore, run_jobs: Any
) -> None:
    placed = connected.place_order([SHIRT], coupon_code="alice10")
    connected.delete_order(placed["id"])
    run_jobs()
    assert [(o.platform_order_id, o.status) for o in orders(session)] == [
        (placed["id"], "cancelled")
    ]


def test_reconciliation_recovers_missed_deliveries_without_double_counting(
    app: Flask, session: Session, connected: SimulatedStore, run_jobs: Any, shop: Shop
) -> None:
    # given one order delivered, then a second order and a refund of the first that never arrived
    connectors(app).get("woocommerce").pacer = Pacer(0)  # type: ignore[attr-defined]
    first = connected.place_order([SHIRT], coupon_code="alice10")
    run_jobs()
    with connected.webhooks_down():
        second = connected.place_order([SHIRT, Item("Cap", 12, 2, "15.00")], coupon_code="alice10")
        connected.refund_order(first["id"], "10.00")
    # when the periodic reconciliation runs, twice
    reconcile_shop(shop.id)
    reconcile_shop(shop.id)
    # and the lost delivery of the second order turns up after all
    connected.deliver("order.created", connected.orders[second["id"]])
    run_jobs()
    # then each order, refund and ledger entry exists exactly once
    assert [(o.platform_order_id, o.status) for o in orders(session)] == [
        (first["id"], "partially_refunded"),
        (second["id"], "paid"),
    ]
    [refund_id] = [r["id"] for r in connected.orders[first["id"]]["refunds"]]
    assert refunds(session) == [(refund_id, 878, 1000)]
    assert sorted(ledger(session)) == [
        (f"commission:{first['id']}", 360),
        (f"commission:{second['id']}", 630),
        # 360 x 878 / 3600 = 87.8: a refund's share is rounded down (never more than earned)
        (f"reversal:{first['id']}:refund:{refund_id}", -87),
    ]


def test_database_down_while_webhooks_arrive_loses_nothing(
    settings: Settings, session: Session, connected: SimulatedStore, run_jobs: Any
) -> None:
    # given the database is unreachable while orders are placed and refunded
    down = create_app(settings.with_overrides(database_url=UNREACHABLE_DATABASE))
    connected.transport = client_transport(down.test_client())
    placed = [connected.place_order([SHIRT], coupon_code="alice10") for _ in range(3)]
    connected.refund_order(placed[0]["id"], "41.00")
    # then WooCommerce heard 2xx every time, so it keeps the webhooks active
    assert statuses(connected.deliveries) == [202] * 4
    assert {(h["status"], h["failure_count"]) for h in connected.webhooks.values()} == {
        ("active", 0)
    }
    assert events(session) == []
    # when the database is back and the spool is replayed
    assert replay_spool() == 4
    run_jobs()
    # then every order and the refund are in
    assert [(o.platform_order_id, o.status) for o in orders(session)] == [
        (placed[0]["id"], "refunded"),
        (placed[1]["id"], "paid"),
        (placed[2]["id"], "paid"),
    ]
    assert len(refunds(session)) == 1


def test_a_coupon_deactivated_through_the_connector_updates_our_code(
    app: Flask, session: Session, connected: SimulatedStore, run_jobs: Any, shop: Shop
) -> None:
    # given the creator's code, known to the store
    code = session.scalars(select(DiscountCode)).one()
    connector = connectors(app).get("woocommerce")
    # when it is deactivated (paused creator); the store then sends coupon.updated
    connector.deactivate_discount_code(app_context_for(session, app, shop), str(code.platform_id))
    connected.drain()
    run_jobs()
    # then our copy follows the store
    session.expire_all()
    assert [d.topic for d in connected.deliveries] == ["coupon.updated"]
    assert session.get(DiscountCode, code.id).status == "deactivated"  # type: ignore[union-attr]
