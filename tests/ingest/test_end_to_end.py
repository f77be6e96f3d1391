"""Sandbox store -> signed webhook -> inbox -> job -> order and ledger; reconciliation on top."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import OrderPage, ShopContext
from connectors.sandbox.store import Item, SandboxStore
from plugin.extensions import connectors
from plugin.ingest import registry
from plugin.ingest.registry import HandlerContext, handlers
from plugin.models import Agreement, Creator, DiscountCode, LedgerEntry, Order, Shop
from plugin.services import metrics
from plugin.tenancy import Tenant
from tests.ingest.conftest import events
from workers.jobs.periodic import reconcile_shop

SERUM = Item(product_id=7001, variant_id=8001, title="Glow serum", unit_price_minor=5000)


@pytest.fixture
def creator_code(session: Session, shop: Shop) -> DiscountCode:
    """Ava's code AVA10 earns her 10% of net item revenue."""
    tenant = Tenant(session, shop.id)
    creator = tenant.add(Creator(handle="ava"))
    session.flush()
    agreement = tenant.add(Agreement(creator_id=creator.id, commission_rate_bps=1000))
    session.flush()
    code = tenant.add(
        DiscountCode(
            creator_id=creator.id,
            agreement_id=agreement.id,
            code="AVA10",
            code_normalized="ava10",
            status="active",
        )
    )
    session.commit()
    return code


def _orders(session: Session, shop: Shop) -> list[tuple[int, str]]:
    session.expire_all()
    return [(o.platform_order_id, o.status) for o in Tenant(session, shop.id).all(Order)]


def _ledger(session: Session, shop: Shop) -> list[tuple[str, int]]:
    rows = session.scalars(
        select(LedgerEntry).where(LedgerEntry.shop_id == shop.id).order_by(LedgerEntry.id)
    )
    return [(entry.kind, entry.amount_minor) for entry in rows]


def test_a_paid_order_becomes_an_order_row_and_one_commission(
    session: Session, shop: Shop, store: SandboxStore, creator_code: DiscountCode, run_jobs: Any
) -> None:
    # when the store sends orders/create and orders/paid, and the jobs run
    order = store.place_order([SERUM], discount_code="ava10")
    ran = run_jobs()
    # then one drain processed both deliveries
    assert ran == 1
    assert [(e.topic, e.status) for e in events(session)] == [
        ("orders/create", "processed"),
        ("orders/paid", "processed"),
    ]
    assert _orders(session, shop) == [(order["id"], "paid")]
    assert _ledger(session, shop) == [("commission", 500)]


def test_redeliveries_and_reconciliation_never_count_an_order_twice(
    app: Flask,
    session: Session,
    shop: Shop,
    store: SandboxStore,
    creator_code: DiscountCode,
    run_jobs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a paid order already processed
    order = store.place_order([SERUM], discount_code="ava10")
    run_jobs()
    # when the platform redelivers every event, and a sync returns the same order again
    for delivery in list(store.deliveries):
        store.redeliver(delivery)
    run_jobs()

    def listing(_shop: ShopContext, _since: datetime, _cursor: str | None = None) -> OrderPage:
        payload: Mapping[str, Any] = store.orders[order["id"]]
        return OrderPage((payload,), None)

    monkeypatch.setattr(connectors(app).get("sandbox"), "orders_updated_since", listing)
    applied = reconcile_shop(shop.id)
    # then
    assert applied == 1
    assert len(events(session)) == 2
    assert _orders(session, shop) == [(order["id"], "paid")]
    assert _ledger(session, shop) == [("commission", 500)]


def test_reconciliation_recovers_an_order_whose_webhooks_were_lost(
    app: Flask,
    session: Session,
    shop: Shop,
    creator_code: DiscountCode,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an order the store has but whose webhooks never reached us
    lost = SandboxStore(
        domain=shop.domain, webhook_secret="unused", transport=lambda path, body, headers: 503
    )
    order = lost.place_order([SERUM], discount_code="AVA10")

    def listing(_shop: ShopContext, _since: datetime, _cursor: str | None = None) -> OrderPage:
        return OrderPage((lost.orders[order["id"]],), None)

    monkeypatch.setattr(connectors(app).get("sandbox"), "orders_updated_since", listing)
    # when
    reconcile_shop(shop.id)
    # then
    assert _orders(session, shop) == [(order["id"], "paid")]
    assert _ledger(session, shop) == [("commission", 500)]


def test_a_refund_reverses_commission_through_the_webhook_path(
    session: Session, shop: Shop, store: SandboxStore, creator_code: DiscountCode, run_jobs: Any
) -> None:
    # given
    order = store.place_order([SERUM], discount_code="AVA10")
    run_jobs()
    # when half the items are refunded (refunds/create, then orders/updated)
    store.refund(order["id"], item_amount_minor=2500)
    run_jobs()
    # then
    assert [e.status for e in events(session)] == ["processed"] * 4
    assert _orders(session, shop) == [(order["id"], "partially_refunded")]
    assert _ledger(session, shop) == [("commission", 500), ("reversal", -250)]


def test_an_event_that_fails_in_a_drain_leaves_nothing_in_the_metric_rollups(
    session: Session,
    shop: Shop,
    store: SandboxStore,
    creator_code: DiscountCode,
    run_jobs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: three orders with Ava's code, whose handler applies the second, then fails
    handlers()
    apply_then_maybe_fail = registry._HANDLERS["order_changed"]
    doomed: set[int] = set()

    def fails_after_applying(context: HandlerContext) -> None:
        apply_then_maybe_fail(context)
        if json.loads(context.event.body)["id"] in doomed:
            raise RuntimeError("boom")

    monkeypatch.setitem(registry._HANDLERS, "order_changed", fails_after_applying)
    placed = [store.place_order([SERUM], discount_code="ava10") for _ in range(3)]
    doomed.add(placed[1]["id"])
    # when one drain takes all six deliveries
    assert run_jobs() >= 1
    # then: the two other orders count, in the rollups exactly as in the raw rows
    start, end = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
    session.expire_all()
    rollups = metrics.creator_metrics(session, shop.id, start=start, end=end)
    raw = metrics.creator_metrics(session, shop.id, start=start, end=end, source="raw")
    assert [row.performance.orders for row in rollups] == [2]
    exact = [replace(row.performance, unique_visitors_approximate=False) for row in rollups]
    assert exact == [row.performance for row in raw]
