"""manifest.yml is the app's single description: valid, and true to the code."""

from __future__ import annotations

import pytest
import yaml

from plugin.manifest import MANIFEST_PATH, ManifestError, load_manifest, parse_manifest


def test_manifest_is_valid_against_its_schema() -> None:
    manifest = load_manifest()
    assert manifest.name == "Tastemaker"
    assert "write_discounts" in manifest.scopes("shopify")


def test_a_broken_manifest_names_the_bad_field() -> None:
    data = yaml.safe_load(MANIFEST_PATH.read_text())
    data["platforms"]["shopify"]["webhooks"][0]["handler"] = "Order Changed!"
    with pytest.raises(ManifestError, match="platforms/shopify/webhooks/0/handler"):
        parse_manifest(yaml.safe_dump(data))


def test_every_subscription_names_a_handler() -> None:
    subscriptions = load_manifest().subscriptions()
    assert subscriptions
    assert all(subscription.handler for subscription in subscriptions)
    assert {s.topic for s in subscriptions if s.compliance} == {
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    }


def test_shopify_and_woocommerce_order_topics_are_subscribed() -> None:
    manifest = load_manifest()
    assert manifest.handler_for("shopify", "orders/paid") == "order_changed"
    assert manifest.handler_for("shopify", "refunds/create") == "refund_created"
    assert manifest.handler_for("woocommerce", "order.updated") == "order_changed"
    assert manifest.handler_for("woocommerce", "order.deleted") == "order_deleted"
