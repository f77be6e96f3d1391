"""Signature, ping, dedupe key and shop domain of WooCommerce deliveries (no database)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from connectors.base import InboundWebhook, ShopContext, WebhookRejected
from connectors.woocommerce import webhooks
from tests.woocommerce.conftest import TEST_VECTOR_SECRET, fixture_bytes, fixture_json, hmac_vectors


def _shop(secret: str | None = TEST_VECTOR_SECRET) -> ShopContext:
    credentials = {"webhook_secret": secret} if secret else {}
    return ShopContext(3, "woocommerce", "example.com", "USD", credentials)


def _delivery(body: bytes, **headers: str) -> InboundWebhook:
    return InboundWebhook(body=body, headers={k.lower(): v for k, v in headers.items()})


def _fixture_delivery() -> InboundWebhook:
    headers = {
        k: v
        for k, v in fixture_json("webhook-headers.order-created.CONSTRUCTED.json").items()
        if not k.startswith("_")
    }
    return _delivery(fixture_bytes("order-created.json"), **headers)


def test_documented_delivery_verifies_with_the_computed_vector() -> None:
    # given the fixture body and headers, signed with the test secret
    delivery = _fixture_delivery()
    body_hash = hashlib.sha256(fixture_bytes("order-created.json")).hexdigest()
    # when
    verified = webhooks.verify(delivery, _shop())
    # then
    assert verified.topic == "order.created"
    assert verified.shop_domain == "example.com"
    assert verified.dedupe_key == f"3:order:727:2017-03-22T19:28:08:{body_hash[:40]}"
    assert verified.triggered_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert verified.is_ping is False


@pytest.mark.parametrize("name", ["woocommerce/order-created.json", "woocommerce/coupon.json"])
def test_signatures_match_the_shared_vectors(name: str) -> None:
    vectors = hmac_vectors()["woocommerce_webhook_signature"]
    body = fixture_bytes(name.split("/", 1)[1])
    assert webhooks.sign(body, vectors["secret"]) == vectors["files"][name]


def test_inline_vector() -> None:
    [vector] = hmac_vectors()["woocommerce_webhook_signature"]["inline"]
    assert webhooks.sign(vector["body"].encode(), TEST_VECTOR_SECRET) == vector["signature_base64"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"X-WC-Webhook-Signature": "p5PEAQc1UJr3y9iQr2rY6orh1KCp7mRz8SpWryYf0B0X"},
            "bad_signature",
        ),
        ({"X-WC-Webhook-Signature": ""}, "missing_signature"),
    ],
)
def test_forged_or_missing_signature_is_rejected(change: dict[str, str], reason: str) -> None:
    headers = dict(_fixture_delivery().headers)
    headers.update({k.lower(): v for k, v in change.items()})
    with pytest.raises(WebhookRejected) as rejected:
        webhooks.verify(InboundWebhook(fixture_bytes("order-created.json"), headers), _shop())
    assert (rejected.value.reason, rejected.value.status) == (reason, 401)


def test_a_tampered_body_is_rejected() -> None:
    delivery = _fixture_delivery()
    tampered = InboundWebhook(delivery.body.replace(b'"29.35"', b'"2.35"'), delivery.headers)
    with pytest.raises(WebhookRejected, match="bad_signature"):
        webhooks.verify(tampered, _shop())


def test_unknown_shop_and_shop_without_secret_fail_closed() -> None:
    with pytest.raises(WebhookRejected, match="unknown_shop"):
        webhooks.verify(_fixture_delivery(), None)
    with pytest.raises(WebhookRejected, match="no_secret_configured"):
        webhooks.verify(_fixture_delivery(), _shop(secret=None))


def test_the_creation_ping_is_recognised_without_a_signature() -> None:
    # given WooCommerce's ping: form body, no X-WC headers
    ping = _delivery(
        fixture_bytes("webhook-ping.body.txt"),
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    # when
    verified = webhooks.verify(ping, None)
    # then
    assert (verified.is_ping, verified.topic, verified.dedupe_key) == (True, "ping", "ping:142")


@pytest.mark.parametrize(
    "delivery",
    [
        _delivery(b"webhook_id=142", **{"X-WC-Webhook-Topic": "order.created"}),
        _delivery(b"webhook_id=142&x=1"),
        _delivery(b'{"webhook_id": 142}'),
    ],
)
def test_look_alike_pings_are_not_pings(delivery: InboundWebhook) -> None:
    with pytest.raises(WebhookRejected, match="missing_signature"):
        webhooks.verify(delivery, _shop())


def _signed(
    payload: dict[str, object], topic: str = "order.updated", delivery_id: str = "a"
) -> InboundWebhook:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return _delivery(
        body,
        **{
            "X-WC-Webhook-Signature": webhooks.sign(body, TEST_VECTOR_SECRET),
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Source": "https://example.com/",
            "X-WC-Webhook-Delivery-ID": delivery_id,
        },
    )


def test_the_same_state_delivered_twice_has_one_dedupe_key() -> None:
    # given the same order state sent twice with different delivery ids
    payload = {"id": 727, "status": "processing", "date_modified_gmt": "2026-01-01T10:00:00"}
    first = webhooks.verify(_signed(payload, delivery_id="a"), _shop())
    second = webhooks.verify(_signed(payload, delivery_id="b"), _shop())
    # then
    assert first.dedupe_key == second.dedupe_key


def test_a_new_order_state_has_a_new_dedupe_key() -> None:
    before = {"id": 727, "status": "processing", "date_modified_gmt": "2026-01-01T10:00:00"}
    after = {"id": 727, "status": "refunded", "date_modified_gmt": "2026-01-01T10:00:05"}
    keys = {webhooks.verify(_signed(p), _shop()).dedupe_key for p in (before, after)}
    assert len(keys) == 2


def test_a_signed_body_that_is_not_json_is_still_recorded() -> None:
    verified = webhooks.verify(_signed_raw(b"not json"), _shop())
    assert verified.dedupe_key == f"3:order:::{hashlib.sha256(b'not json').hexdigest()[:40]}"


def _signed_raw(body: bytes) -> InboundWebhook:
    return _delivery(
        body,
        **{
            "X-WC-Webhook-Signature": webhooks.sign(body, TEST_VECTOR_SECRET),
            "X-WC-Webhook-Topic": "order.updated",
        },
    )


def test_a_signed_topic_we_did_not_subscribe_to_is_answered_200_and_not_recorded() -> None:
    with pytest.raises(WebhookRejected) as rejected:
        webhooks.verify(_signed({"id": 1}, topic="product.updated"), _shop())
    assert (rejected.value.reason, rejected.value.status) == ("unsubscribed_topic", 200)


@pytest.mark.parametrize(
    ("source", "domain"),
    [
        ("https://example.com/", "example.com"),
        ("https://Shop.Example.com:443/blog/", "shop.example.com"),
        ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ("", ""),
        ("not a url", ""),
    ],
)
def test_shop_domain_is_the_source_origin_host(source: str, domain: str) -> None:
    delivery = _delivery(b"{}", **{"X-WC-Webhook-Source": source})
    assert webhooks.shop_domain(delivery) == domain


def test_the_topics_we_accept_are_the_manifests_subscriptions() -> None:
    from plugin.manifest import load_manifest

    subscribed = {s.topic for s in load_manifest().subscriptions("woocommerce")}
    assert set(webhooks.TOPICS) == subscribed
