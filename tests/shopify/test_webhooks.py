"""Webhook verification with the fixture bytes and the published HMAC vectors (connector level)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.base import InboundWebhook, ShopContext, WebhookRejected
from connectors.shopify import ShopifyConnector
from connectors.shopify.simulator import ShopifySimulator
from connectors.shopify.webhooks import sign
from tests.shopify.conftest import (
    API_SECRET,
    SHOP,
    connector_config,
    fixture_bytes,
    fixture_json,
    hmac_vectors,
)

VECTORS = hmac_vectors()["shopify_webhook_body_hmac"]
TOPIC_OF_FILE = {
    "shopify/orders-create-with-discount-code.json": "orders/create",
    "shopify/refunds-create.json": "refunds/create",
    "shopify/app-uninstalled.json": "app/uninstalled",
    "shopify/customers-redact.json": "customers/redact",
    "shopify/shop-redact.json": "shop/redact",
}


def delivery(body: bytes, signature: str, **headers: str) -> InboundWebhook:
    values = {
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        **{name.replace("_", "-"): value for name, value in headers.items()},
    }
    return InboundWebhook(body=body, headers={k.lower(): v for k, v in values.items()})


def shop_context(domain: str = SHOP) -> ShopContext:
    return ShopContext(shop_id=7, platform="shopify", domain=domain, currency="USD", credentials={})


def test_the_vector_secret_is_the_test_client_secret() -> None:
    assert VECTORS["secret"] == API_SECRET


@pytest.mark.parametrize(("path", "expected"), sorted(VECTORS["files"].items()))
def test_fixture_bytes_sign_to_the_published_vector(path: str, expected: str) -> None:
    # when
    signature = sign(fixture_bytes(path.removeprefix("shopify/")), API_SECRET)
    # then
    assert signature == expected


@pytest.mark.parametrize(("path", "expected"), sorted(VECTORS["files"].items()))
def test_fixture_deliveries_verify(connector: ShopifyConnector, path: str, expected: str) -> None:
    # given the exact fixture bytes with the published signature
    body = fixture_bytes(path.removeprefix("shopify/"))
    topic = TOPIC_OF_FILE[path]
    # when
    verified = connector.verify_webhook(
        delivery(body, expected, X_Shopify_Topic=topic), shop_context()
    )
    # then
    assert verified.topic == topic
    assert verified.shop_domain == SHOP
    assert verified.dedupe_key == f"{SHOP}:{topic}:98880550-7158-44d4-b7cd-2c97c8a091b5"


def test_the_inline_vector_verifies(connector: ShopifyConnector) -> None:
    vector = VECTORS["inline"][0]
    body = vector["body"].encode()
    assert sign(body, API_SECRET) == vector["hmac_base64"]
    verified = connector.verify_webhook(
        delivery(body, vector["hmac_base64"], X_Shopify_Topic="shop/redact"), None
    )
    assert verified.topic == "shop/redact"


def test_constructed_headers_in_their_original_casing_verify(connector: ShopifyConnector) -> None:
    # given the constructed header set, names as Shopify capitalises them
    headers = {
        name: value
        for name, value in fixture_json("webhook-headers.orders-create.CONSTRUCTED.json").items()
        if not name.startswith("_")
    }
    inbound = InboundWebhook(
        body=fixture_bytes("orders-create-with-discount-code.json"),
        headers={name.lower(): value for name, value in headers.items()},
    )
    # when
    verified = connector.verify_webhook(inbound, shop_context())
    # then
    assert verified.dedupe_key == f"{SHOP}:orders/create:98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert verified.triggered_at == datetime(2025, 4, 2, 16, 29, 59, tzinfo=UTC)
    assert connector.webhook_shop_domain(inbound) == SHOP


def test_a_forged_body_is_rejected_with_401(connector: ShopifyConnector) -> None:
    # given the published signature over a body with one byte changed
    body = fixture_bytes("orders-create-with-discount-code.json").replace(b"TENOFF", b"TENOFG")
    signature = VECTORS["files"]["shopify/orders-create-with-discount-code.json"]
    # when
    with pytest.raises(WebhookRejected) as rejected:
        connector.verify_webhook(delivery(body, signature), shop_context())
    # then
    assert (rejected.value.reason, rejected.value.status) == ("bad_signature", 401)


@pytest.mark.parametrize(
    "signature", ["", "not base64!!", sign(b"other body", API_SECRET), sign(b"{}", "wrong-secret")]
)
def test_missing_or_wrong_signatures_are_rejected(
    connector: ShopifyConnector, signature: str
) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        connector.verify_webhook(delivery(b"{}", signature), shop_context())
    assert rejected.value.status == 401
    assert rejected.value.reason in {"missing_signature", "bad_signature"}


def test_the_previous_secret_verifies_only_while_it_is_configured(
    simulator: ShopifySimulator,
) -> None:
    # given a body signed with the secret being rotated out
    body = b'{"id":1}'
    old_signature = sign(body, "old-client-secret")
    rotating = ShopifyConnector(
        connector_config(simulator, shopify_previous_api_secret="old-client-secret")
    )
    rotated = ShopifyConnector(connector_config(simulator))
    # then
    assert rotating.verify_webhook(delivery(body, old_signature), None).topic == "orders/create"
    with pytest.raises(WebhookRejected, match="bad_signature"):
        rotated.verify_webhook(delivery(body, old_signature), None)


def test_no_configured_secret_fails_closed(simulator: ShopifySimulator) -> None:
    unconfigured = ShopifyConnector(connector_config(simulator, shopify_api_secret=None))
    with pytest.raises(WebhookRejected, match="no_secret_configured"):
        unconfigured.verify_webhook(delivery(b"{}", sign(b"{}", "")), None)


@pytest.mark.parametrize(
    "domain", ["evil.com", "x.myshopify.com.evil.com", "", "jsmith.myshopify.com/../x"]
)
def test_a_signed_delivery_naming_a_foreign_domain_is_rejected(
    connector: ShopifyConnector, domain: str
) -> None:
    body = b'{"id":1}'
    with pytest.raises(WebhookRejected) as rejected:
        connector.verify_webhook(
            delivery(body, sign(body, API_SECRET), X_Shopify_Shop_Domain=domain), None
        )
    assert (rejected.value.reason, rejected.value.status) == ("bad_shop_domain", 400)


def test_a_delivery_for_another_shop_than_the_context_is_rejected(
    connector: ShopifyConnector,
) -> None:
    body = b'{"id":1}'
    with pytest.raises(WebhookRejected, match="shop_mismatch"):
        connector.verify_webhook(
            delivery(body, sign(body, API_SECRET)), shop_context("other-shop.myshopify.com")
        )


def test_an_unknown_topic_is_refused(connector: ShopifyConnector) -> None:
    body = b'{"id":1}'
    with pytest.raises(WebhookRejected) as rejected:
        connector.verify_webhook(
            delivery(body, sign(body, API_SECRET), X_Shopify_Topic="products/create"), None
        )
    assert (rejected.value.reason, rejected.value.status) == ("unknown_topic", 400)


def test_a_redelivery_has_the_same_dedupe_key(connector: ShopifyConnector) -> None:
    # given the same event delivered twice with different webhook ids
    body = b'{"id":1}'
    signature = sign(body, API_SECRET)
    first = connector.verify_webhook(delivery(body, signature, X_Shopify_Webhook_Id="a"), None)
    second = connector.verify_webhook(delivery(body, signature, X_Shopify_Webhook_Id="b"), None)
    # then
    assert first.dedupe_key == second.dedupe_key


def test_the_webhook_id_stands_in_for_a_missing_event_id(connector: ShopifyConnector) -> None:
    body = b'{"id":1}'
    inbound = delivery(body, sign(body, API_SECRET), X_Shopify_Webhook_Id="wh-1")
    headers = {k: v for k, v in inbound.headers.items() if k != "x-shopify-event-id"}
    verified = connector.verify_webhook(InboundWebhook(body=body, headers=headers), None)
    assert verified.dedupe_key == f"{SHOP}:orders/create:wh-1"
