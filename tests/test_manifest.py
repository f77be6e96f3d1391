"""manifest.yml is the app's single description: valid, and true to the code."""

from __future__ import annotations

import re

import pytest
import yaml
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import MapAdapter

from plugin.manifest import MANIFEST_PATH, ManifestError, load_manifest, parse_manifest
from plugin.web.links import PREFIX as REDIRECT_PREFIX
from plugin.web.links import ReferralRedirects


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


def test_every_url_in_the_manifest_is_served(client: FlaskClient) -> None:
    manifest = load_manifest()
    paths = list(manifest.data["urls"].values())
    for platform in manifest.data["platforms"].values():
        paths += [
            platform[key]
            for key in ("install_url", "callback_url", "return_url", "webhook_url")
            if key in platform
        ]
    paths += [
        w[key]
        for w in manifest.data["widgets"].values()
        for key in ("loader", "script")
        if key in w
    ]
    adapter = client.application.url_map.bind("tastemaker.test")
    # The referral redirect is answered in front of Flask's URL map, by its own middleware.
    assert isinstance(client.application.wsgi_app, ReferralRedirects)
    unserved = [
        template
        for template in paths
        if not template.startswith(REDIRECT_PREFIX) and not _served(adapter, template)
    ]
    assert unserved == []


def _served(adapter: MapAdapter, template: str) -> bool:
    path = re.sub(r"\{[a-z_]+\}", "sample", template)
    for method in ("GET", "POST"):
        try:
            adapter.match(path, method=method)
        except MethodNotAllowed:
            continue
        except NotFound:
            return False
        return True
    return False
