"""WooCommerce jobs: register, the periodic webhook check, revoked keys, and a real RQ worker."""

from __future__ import annotations

from typing import Any

from flask import Flask
from rq import Queue, SimpleWorker
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.woocommerce.client import Pacer
from connectors.woocommerce.simulator import Item, SimulatedStore
from plugin.extensions import connectors
from plugin.models import Order, Shop
from tests.conftest import REDIS_URL
from tests.ingest.conftest import enqueued
from tests.woocommerce.conftest import recording_transport
from workers import runtime
from workers.backends import RQBackend
from workers.jobs.woocommerce import (
    WEBHOOK_IDS_KEY,
    check_all_webhooks,
    check_woocommerce_webhooks,
    register_woocommerce_webhooks,
)

CHECK_JOB = "workers.jobs.woocommerce.check_woocommerce_webhooks"
RECONCILE_JOB = "workers.jobs.periodic.reconcile_shop"


def reload(session: Session, shop: Shop) -> Shop:
    session.expire_all()
    found = session.get(Shop, shop.id)
    assert found is not None
    return found


def test_check_all_webhooks_sends_one_check_per_active_woocommerce_shop(
    app: Flask, session: Session, shop: Shop
) -> None:
    # given a second WooCommerce shop that needs reconnecting and a shop of another platform
    session.add_all(
        [
            Shop(
                platform="woocommerce",
                domain="gone.example",
                public_key="pk_gone",
                status="needs_reconnect",
            ),
            Shop(platform="sandbox", domain="sb.example", public_key="pk_sb"),
        ]
    )
    session.commit()
    # when
    sent = check_all_webhooks()
    # then
    assert sent == 1
    assert enqueued(app) == [(CHECK_JOB, (shop.id,))]


def test_a_disabled_webhook_is_reactivated_and_the_gap_reconciled(
    app: Flask, session: Session, shop: Shop, wire: SimulatedStore, run_jobs: Any
) -> None:
    # given our webhooks, and an outage on our side long enough for WooCommerce to disable one
    connectors(app).get("woocommerce").pacer = Pacer(0)  # type: ignore[attr-defined]
    ids = register_woocommerce_webhooks(shop.id)
    assert ids is not None
    outage, _ = recording_transport(status=503)
    working = wire.transport
    wire.transport = outage
    missed = [wire.place_order([Item("Cap", 12, 1, "15.00")]) for _ in range(7)]
    wire.transport = working
    assert wire.webhooks[ids["order.created"]]["status"] == "disabled"
    # when the periodic check runs
    check_all_webhooks()
    run_jobs()
    # then the webhook is active again (re-created) and the orders it missed were fetched
    recorded = reload(session, shop).settings[WEBHOOK_IDS_KEY]
    assert wire.webhooks[recorded["order.created"]]["status"] == "active"
    assert ids["order.created"] not in wire.webhooks
    assert (CHECK_JOB, (shop.id,)) in enqueued(app)
    assert (RECONCILE_JOB, (shop.id,)) in enqueued(app)
    session.expire_all()
    assert sorted(session.scalars(select(Order.platform_order_id))) == [o["id"] for o in missed]
    # and new orders are delivered again
    wire.place_order()
    assert (wire.deliveries[-1].topic, wire.deliveries[-1].status) == ("order.created", 200)


def test_a_recreated_webhook_is_recorded(
    session: Session, shop: Shop, wire: SimulatedStore, run_jobs: Any
) -> None:
    ids = register_woocommerce_webhooks(shop.id)
    assert ids is not None
    del wire.webhooks[ids["order.updated"]]
    result = check_woocommerce_webhooks(shop.id)
    assert result is not None
    assert result.recreated == ("order.updated",)
    assert reload(session, shop).settings[WEBHOOK_IDS_KEY] == result.ids


def test_a_revoked_key_marks_the_shop_and_stops_its_jobs(
    app: Flask, session: Session, shop: Shop, wire: SimulatedStore, run_jobs: Any
) -> None:
    # given the merchant revoked our key in WooCommerce
    register_woocommerce_webhooks(shop.id)
    wire.revoke_key(next(iter(wire.keys)))
    requests_before = len(wire.requests)
    # when the periodic check meets the 401
    assert check_woocommerce_webhooks(shop.id) is None
    # then the shop needs reconnecting, and no job talks to the store for it any more
    assert reload(session, shop).status == "needs_reconnect"
    assert check_all_webhooks() == 0
    assert register_woocommerce_webhooks(shop.id) is None
    assert check_woocommerce_webhooks(shop.id) is None
    assert len(wire.requests) == requests_before + 2  # one Basic try, one query-string try


def test_jobs_for_a_missing_shop_return_cleanly(app: Flask, session: Session) -> None:
    assert register_woocommerce_webhooks(424242) is None
    assert check_woocommerce_webhooks(424242) is None


def test_a_real_rq_worker_runs_the_registration(
    app: Flask, session: Session, shop: Shop, store: SimulatedStore, redis_connection: Any
) -> None:
    # given the job sent through Redis, as the callback does in production
    runtime.init_app(app, RQBackend(REDIS_URL))
    runtime.enqueue(register_woocommerce_webhooks, shop.id)
    queue = Queue("webhooks", connection=redis_connection)
    assert queue.count == 1
    # when an RQ worker picks it up
    runtime.set_worker_app(app)
    try:
        SimpleWorker([queue], connection=redis_connection).work(burst=True)
    finally:
        runtime.set_worker_app(None)
    # then
    assert len(store.webhooks) == 5
    assert sorted(reload(session, shop).settings[WEBHOOK_IDS_KEY]) == sorted(
        h["topic"] for h in store.webhooks.values()
    )
