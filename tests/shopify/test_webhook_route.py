"""`POST /webhooks/shopify` with the fixture bytes: verify, record once, process, and the lifecycle
(uninstall, late deliveries, compliance topics) through the inbox and its jobs."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.shopify.simulator import ShopifySimulator
from connectors.shopify.webhooks import sign
from plugin.models import Order, Shop, WebhookEvent, utcnow
from tests.shopify.conftest import API_SECRET, SHOP, fixture_bytes, hmac_vectors, install_shop

VECTORS = hmac_vectors()["shopify_webhook_body_hmac"]["files"]


def post(
    client: FlaskClient,
    body: bytes,
    topic: str,
    *,
    signature: str | None = None,
    event_id: str = "evt-1",
    shop: str = SHOP,
    triggered_at: str | None = None,
) -> Any:
    return client.post(
        "/webhooks/shopify",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature or sign(body, API_SECRET),
            "X-Shopify-Shop-Domain": shop,
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Webhook-Id": f"wh-{event_id}",
            "X-Shopify-Triggered-At": triggered_at or utcnow().isoformat(),
        },
    )


def events(session: Session) -> list[WebhookEvent]:
    session.expire_all()
    return list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


def test_the_fixture_order_with_its_published_signature_is_recorded_and_processed(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    # given
    shop_id = install_shop(app, session, simulator).id
    body = fixture_bytes("orders-create-with-discount-code.json")
    # when
    response = post(
        client,
        body,
        "orders/create",
        signature=VECTORS["shopify/orders-create-with-discount-code.json"],
    )
    run_jobs()
    # then
    assert (response.status_code, response.get_json()) == (200, {"status": "stored"})
    [event] = events(session)
    assert (event.topic, event.status, event.body) == ("orders/create", "processed", body)
    assert event.dedupe_key == f"{SHOP}:orders/create:evt-1"
    order = session.scalars(select(Order).where(Order.shop_id == shop_id)).one()
    assert (order.platform_order_id, order.total_minor, order.discount_codes) == (
        450789469,
        59894,
        ["TENOFF"],
    )


def test_a_forged_delivery_gets_401_and_leaves_nothing(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    install_shop(app, session, simulator)
    body = fixture_bytes("orders-create-with-discount-code.json")
    response = post(client, body, "orders/create", signature=sign(body, "guessed-secret"))
    assert (response.status_code, response.get_json()) == (401, {"error": "bad_signature"})
    assert events(session) == []


def test_a_forged_compliance_delivery_gets_401(client: FlaskClient, session: Session) -> None:
    body = fixture_bytes("customers-redact.json")
    response = post(
        client, body + b" ", "customers/redact", signature=VECTORS["shopify/customers-redact.json"]
    )
    assert response.status_code == 401
    assert events(session) == []


def test_a_replayed_delivery_is_recorded_once(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    install_shop(app, session, simulator)
    body = fixture_bytes("refunds-create.json")
    signature = VECTORS["shopify/refunds-create.json"]
    first = post(client, body, "refunds/create", signature=signature, event_id="evt-9")
    again = post(client, body, "refunds/create", signature=signature, event_id="evt-9")
    run_jobs()
    assert (first.get_json(), again.get_json()) == ({"status": "stored"}, {"status": "duplicate"})
    assert [e.status for e in events(session)] == ["processed"]


def test_a_delivery_naming_a_foreign_domain_is_refused(
    client: FlaskClient, session: Session
) -> None:
    body = b'{"id":1}'
    for domain in ("evil.com", "x.myshopify.com.evil.com"):
        response = post(client, body, "orders/create", shop=domain)
        assert (response.status_code, response.get_json()) == (400, {"error": "bad_shop_domain"})
    assert events(session) == []


def test_uninstall_stops_the_shop_and_late_webhooks_change_nothing(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    # given an installed shop; Shopify sends app/uninstalled (the fixture's exact bytes)
    shop_id = install_shop(app, session, simulator).id
    post(
        client,
        fixture_bytes("app-uninstalled.json"),
        "app/uninstalled",
        signature=VECTORS["shopify/app-uninstalled.json"],
        event_id="evt-uninstall",
    )
    run_jobs()
    shop = session.get(Shop, shop_id)
    assert shop is not None
    session.refresh(shop)
    assert (shop.status, shop.credentials_encrypted) == ("uninstalled", None)
    # when an order webhook Shopify queued earlier arrives late
    late = post(
        client,
        fixture_bytes("orders-create-with-discount-code.json"),
        "orders/create",
        event_id="evt-late",
    )
    run_jobs()
    # then it is acknowledged (no retries) but changes nothing
    assert late.status_code == 200
    assert [(e.topic, e.status) for e in events(session)] == [
        ("app/uninstalled", "processed"),
        ("orders/create", "ignored"),
    ]
    assert session.scalars(select(Order)).all() == []


def test_the_install_jobs_stop_for_an_uninstalled_shop(
    app: Flask, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    from plugin.services.shops import mark_uninstalled
    from workers.jobs.shopify import publish_shopify_app_data, register_shopify_webhooks
    from workers.runtime import enqueue

    shop = install_shop(app, session, simulator)
    mark_uninstalled(session, shop)
    session.commit()
    enqueue(register_shopify_webhooks, shop.id)
    enqueue(publish_shopify_app_data, shop.id)
    enqueue(register_shopify_webhooks, 987654)  # a shop that is gone
    run_jobs()
    assert simulator.calls == []


def test_shop_redact_erases_an_uninstalled_shop(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    # given an uninstalled shop with an order
    shop_id = install_shop(app, session, simulator).id
    post(client, fixture_bytes("orders-create-with-discount-code.json"), "orders/create")
    run_jobs()
    post(client, fixture_bytes("app-uninstalled.json"), "app/uninstalled", event_id="evt-u")
    run_jobs()
    # when shop/redact arrives (the fixture's exact bytes and published signature)
    response = post(
        client,
        fixture_bytes("shop-redact.json"),
        "shop/redact",
        signature=VECTORS["shopify/shop-redact.json"],
        event_id="evt-redact",
    )
    run_jobs()
    # then everything of the shop is gone but the record of the erasure
    assert response.status_code == 200
    session.expire_all()
    assert session.get(Shop, shop_id) is None
    assert session.scalars(select(Order)).all() == []
    assert [(e.topic, e.status, e.shop_id) for e in events(session)] == [
        ("shop/redact", "processed", None)
    ]


def test_shop_redact_for_a_reinstalled_shop_is_ignored(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    shop_id = install_shop(app, session, simulator).id
    post(client, fixture_bytes("shop-redact.json"), "shop/redact", event_id="evt-redact")
    run_jobs()
    session.expire_all()
    assert session.get(Shop, shop_id) is not None


def test_customer_redact_through_the_route_erases_the_customer(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    # given the fixture order of customer 207119551 was received
    install_shop(app, session, simulator)
    post(client, fixture_bytes("orders-create-with-discount-code.json"), "orders/create")
    run_jobs()
    # when Shopify asks to redact that customer
    body = json.dumps(
        {
            "shop_id": 548380009,
            "shop_domain": SHOP,
            "customer": {"id": 207119551, "email": "bob.norman@mail.example.com", "phone": None},
            "orders_to_redact": [450789469],
        }
    ).encode()
    response = post(client, body, "customers/redact", event_id="evt-redact")
    run_jobs()
    # then the order keeps its money and loses the customer
    assert response.status_code == 200
    session.expire_all()
    order = session.scalars(select(Order)).one()
    assert (order.customer_ref, order.customer_email_hash) == (None, None)
    assert (order.landing_site, order.referring_site) == (None, None)
    assert order.total_minor == 59894
    order_event, redact_event = events(session)
    assert json.loads(order_event.body) == {
        "id": 450789469,
        "updated_at": "2008-01-10T11:00:00-05:00",
        "redacted": True,
    }
    assert b"bob.norman" not in redact_event.body
    assert redact_event.status == "processed"


def test_the_published_compliance_bodies_are_accepted(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    install_shop(app, session, simulator)
    response = post(
        client,
        fixture_bytes("customers-redact.json"),
        "customers/redact",
        signature=VECTORS["shopify/customers-redact.json"],
    )
    run_jobs()
    assert response.status_code == 200
    assert [e.status for e in events(session)] == ["processed"]


def test_an_uninstall_triggered_before_a_reinstall_does_not_uninstall_it(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    shop_id = install_shop(app, session, simulator).id
    post(
        client,
        fixture_bytes("app-uninstalled.json"),
        "app/uninstalled",
        triggered_at="2020-01-01T00:00:00.000Z",
    )
    run_jobs()
    session.expire_all()
    assert session.get(Shop, shop_id).status == "active"  # type: ignore[union-attr]


def test_the_periodic_resubscription_recreates_deleted_subscriptions(
    app: Flask, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    from workers.jobs.shopify import ensure_all_shopify_webhooks
    from workers.runtime import enqueue

    # given an installed shop whose API subscriptions Shopify deleted after failed deliveries
    domain = install_shop(app, session, simulator).domain
    simulator.shop(domain).webhooks.clear()
    # when the periodic job runs
    enqueue(ensure_all_shopify_webhooks)
    run_jobs()
    # then every API-subscribed manifest topic is subscribed again, once (compliance topics and
    # app/uninstalled come from shopify.app.toml)
    topics = sorted(hook["topic"] for hook in simulator.shop(domain).webhooks)
    assert topics == [
        "ORDERS_CANCELLED",
        "ORDERS_CREATE",
        "ORDERS_PAID",
        "ORDERS_UPDATED",
        "REFUNDS_CREATE",
    ]
