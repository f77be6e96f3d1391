"""POST /webhooks/<platform>: verify over raw bytes, record once, enqueue after commit."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from connectors.base import ShopContext
from connectors.sandbox import signing
from connectors.sandbox.store import SandboxStore
from plugin.extensions import credentials
from plugin.ingest.inbox import ShopContexts
from plugin.models import Shop
from plugin.services.shops import save_shop_credentials
from tests.ingest.conftest import (
    SHOP_DOMAIN,
    WEBHOOK_SECRET,
    enqueued,
    events,
    post_webhook,
    signed_headers,
)

DRAIN_JOB = "workers.jobs.webhooks.drain_webhook_inbox"
ORDER = {"id": 1001, "status": "pending"}


def test_signed_delivery_is_stored_raw_and_enqueued_once(
    app: Flask, session: Session, store: SandboxStore, shop: Shop
) -> None:
    # when the store sends a signed delivery
    delivery = store.deliver("orders/create", ORDER)
    # then it is answered 200 and recorded as received, raw
    assert delivery.status == 200
    [event] = events(session)
    assert (event.platform, event.topic, event.status, event.shop_id, event.shop_domain) == (
        "sandbox",
        "orders/create",
        "pending",
        shop.id,
        SHOP_DOMAIN,
    )
    assert event.body == delivery.body
    assert event.dedupe_key == f"{SHOP_DOMAIN}:orders/create:{delivery.event_id}"
    assert event.headers["x-sandbox-event-id"] == delivery.event_id
    assert event.triggered_at is not None
    # and a drain of the inbox was asked for, once
    assert enqueued(app) == [(DRAIN_JOB, ())]


def test_duplicate_delivery_answers_200_and_adds_nothing(
    app: Flask, client: FlaskClient, session: Session, store: SandboxStore
) -> None:
    # given a delivery already recorded
    first = store.deliver("orders/create", ORDER)
    # when the platform retries the same event
    body = first.body
    headers = signed_headers(body, event_id=first.event_id)
    response = post_webhook(client, body, headers)
    # then
    assert response.status_code == 200
    assert response.get_json() == {"status": "duplicate"}
    assert len(events(session)) == 1
    assert enqueued(app) == [(DRAIN_JOB, ())]


@pytest.mark.parametrize(
    ("headers_for", "reason"),
    [
        (lambda body: signed_headers(body, secret="not-the-secret"), "bad_signature"),
        (lambda body: signed_headers(b"another body", secret=WEBHOOK_SECRET), "bad_signature"),
        (
            lambda body: {
                k: v for k, v in signed_headers(body).items() if k != signing.SIGNATURE_HEADER
            },
            "missing_signature",
        ),
        (lambda body: signed_headers(body, domain="stranger.sandbox.test"), "unknown_shop"),
    ],
    ids=["wrong-secret", "tampered-body", "missing-signature", "unknown-shop"],
)
def test_unverifiable_delivery_is_401_stored_nowhere_and_counted(
    app: Flask,
    client: FlaskClient,
    session: Session,
    shop: Shop,
    headers_for: object,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given
    body = json.dumps(ORDER).encode()
    # when
    response = post_webhook(client, body, headers_for(body))  # type: ignore[operator]
    # then
    assert response.status_code == 401
    assert response.get_json() == {"error": reason}
    assert events(session) == []
    assert enqueued(app) == []
    assert f"webhook rejected: platform=sandbox reason={reason}" in caplog.text
    stats = client.get("/internal/webhook-stats").get_json()
    assert stats == {"accepted": {}, "rejected": {"sandbox": {reason: 1}}}


def test_unknown_platform_is_404(client: FlaskClient, session: Session) -> None:
    response = client.post("/webhooks/nosuchshop", data=b"{}")
    assert response.status_code == 404
    assert events(session) == []


def test_oversized_body_declared_in_content_length_is_413(
    app: Flask, client: FlaskClient, session: Session, shop: Shop
) -> None:
    # given an inbox that accepts at most 1 KiB
    app.config["TASTEMAKER"] = app.config["TASTEMAKER"].with_overrides(webhook_max_body_bytes=1024)
    body = json.dumps({"id": 1, "padding": "x" * 1100}).encode()
    # when
    response = post_webhook(client, body, signed_headers(body))
    # then
    assert response.status_code == 413
    assert response.get_json() == {"error": "body_too_large", "limit": 1024}
    assert events(session) == []
    assert client.get("/internal/webhook-stats").get_json()["rejected"] == {
        "sandbox": {"body_too_large": 1}
    }


def test_oversized_body_without_content_length_is_413_on_the_actual_read(
    app: Flask, client: FlaskClient, session: Session, shop: Shop
) -> None:
    # given an inbox that accepts at most 1 KiB, and a chunked request (no Content-Length)
    app.config["TASTEMAKER"] = app.config["TASTEMAKER"].with_overrides(webhook_max_body_bytes=1024)
    body = json.dumps({"id": 1, "padding": "x" * 1100}).encode()
    # when
    response = client.post(
        "/webhooks/sandbox",
        input_stream=io.BytesIO(body),
        headers=signed_headers(body),
        environ_overrides={"wsgi.input_terminated": True},
    )
    # then
    assert response.status_code == 413
    assert events(session) == []


def test_body_exactly_at_the_limit_is_accepted(
    app: Flask, client: FlaskClient, session: Session, shop: Shop
) -> None:
    # given
    app.config["TASTEMAKER"] = app.config["TASTEMAKER"].with_overrides(webhook_max_body_bytes=1024)
    prefix = b'{"id":1,"padding":"'
    body = prefix + b"x" * (1024 - len(prefix) - 2) + b'"}'
    assert len(body) == 1024
    # when
    response = post_webhook(client, body, signed_headers(body))
    # then
    assert response.status_code == 200
    assert [event.body for event in events(session)] == [body]


def test_woocommerce_creation_ping_gets_exactly_200_and_stores_nothing(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    # when WooCommerce pings a new webhook (unsigned form body)
    response = client.post(
        "/webhooks/woocommerce",
        data=b"webhook_id=142",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    # then
    assert response.status_code == 200
    assert response.data == b""
    assert events(session) == []
    assert enqueued(app) == []


def test_stats_count_accepted_outcomes(client: FlaskClient, store: SandboxStore) -> None:
    # given
    delivery = store.deliver("orders/create", ORDER)
    store.redeliver(delivery)
    # when
    stats = client.get("/internal/webhook-stats").get_json()
    # then
    assert stats == {"accepted": {"sandbox": {"duplicate": 1, "stored": 1}}, "rejected": {}}


def test_deliveries_verified_with_a_kept_context_record_the_shop(
    session: Session, store: SandboxStore, shop: Shop
) -> None:
    # when two deliveries come in a row (the second one verified by the kept context)
    store.deliver("orders/create", ORDER)
    store.deliver("orders/paid", ORDER)
    # then
    assert [(e.topic, e.shop_id) for e in events(session)] == [
        ("orders/create", shop.id),
        ("orders/paid", shop.id),
    ]


def test_a_rotated_webhook_secret_is_honoured_at_once(
    app: Flask, client: FlaskClient, session: Session, store: SandboxStore, shop: Shop
) -> None:
    # given a shop whose deliveries were verified (and its context kept) a moment ago
    assert store.deliver("orders/create", ORDER).status == 200
    # when the shop is reconnected with a new secret and the store signs with it
    save_shop_credentials(session, credentials(app), shop.id, {"webhook_secret": "whsec-new"})
    body = json.dumps(ORDER).encode()
    response = post_webhook(client, body, signed_headers(body, secret="whsec-new"))
    # then
    assert response.status_code == 200
    assert len(events(session)) == 2


def test_kept_shop_contexts_expire() -> None:
    # given
    contexts = ShopContexts(ttl=-1.0)
    context = ShopContext(
        shop_id=1, platform="sandbox", domain="a.test", currency="USD", credentials={}
    )
    # when
    contexts.put("sandbox", "a.test", 1, context)
    # then
    assert contexts.get("sandbox", "a.test") is None


def test_webhook_stats_are_only_served_to_the_host_itself(client: FlaskClient) -> None:
    remote = client.get("/internal/webhook-stats", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    local = client.get("/internal/webhook-stats")
    assert (remote.status_code, local.status_code) == (404, 200)
