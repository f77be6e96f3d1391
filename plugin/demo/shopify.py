"""Demo part: a simulated Shopify, and the real install flow against the running app.

The simulated Shopify auto-approves the install: opening the printed link walks the browser
through the app's /shopify/install (signed query), Shopify's authorize page, the app's
/shopify/callback (code -> expiring offline token, stored encrypted) and lands in the embedded
admin; the install jobs then subscribe the shop's webhooks on the simulator.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Flask

from connectors.shopify import ShopifyConnector
from connectors.shopify.app_toml import APP_CONFIG_TOPICS
from connectors.shopify.simulator import ShopifySimulator
from plugin.extensions import connectors
from plugin.web.shopify_auth import install_credentials_refresher

SIMULATOR_KEY = "tastemaker.demo.shopify_simulator"
DEMO_API_KEY = "demo-shopify-api-key"
DEMO_API_SECRET = "demo-shopify-api-secret"  # noqa: S105 - the simulator's own, not a real secret
DEMO_SHOPS = ("tastemaker-demo.myshopify.com", "second-demo.myshopify.com")


def start(app: Flask, base_url: str) -> list[str]:
    registry = connectors(app)
    config = replace(
        registry.config,
        shopify_api_key=registry.config.shopify_api_key or DEMO_API_KEY,
        shopify_api_secret=registry.config.shopify_api_secret or DEMO_API_SECRET,
    )
    simulator = ShopifySimulator(
        config.shopify_api_key or DEMO_API_KEY,
        config.shopify_api_secret or DEMO_API_SECRET,
        app_url=base_url,
        # What shopify.app.toml subscribes for every shop (see connectors.shopify.app_toml).
        config_webhooks=dict.fromkeys(APP_CONFIG_TOPICS, base_url + "/webhooks/shopify"),
    ).start()
    # Everything the app sends to https://{shop} now goes to the simulator (path-prefixed).
    config = replace(config, shopify_base_url_override=simulator.url)
    registry.config = config
    connector = registry.get("shopify")
    if isinstance(connector, ShopifyConnector):
        connector.configure(config)
    install_credentials_refresher(app)
    app.extensions[SIMULATOR_KEY] = simulator
    lines = [f"Shopify (a simulated Shopify at {simulator.url}, auto-approving installs):"]
    lines += [f"  install on {shop}: {simulator.install_url(shop)}" for shop in DEMO_SHOPS]
    lines.append("  each link runs the real OAuth install and lands in the embedded admin (/admin)")
    return lines
