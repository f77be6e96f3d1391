"""Demo part: a simulated Shopify, a stand-in Shopify admin, and the embedded app inside it.

The simulated Shopify approves installs the way Shopify-managed installation does: the printed
install link ends on the admin stand-in (another origin, `plugin.demo.admin_host`), which frames
the app's /admin with a session token; the app installs the shop by token exchange and shows its
dashboard inside the frame. The first demo shop is installed that way at start and given
creators and discount codes through the admin API, authenticated with a session token only.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import urlencode, urlsplit

import requests
from flask import Flask

from connectors.shopify import ShopifyConnector
from connectors.shopify.app_toml import APP_CONFIG_TOPICS
from connectors.shopify.simulator import ShopifySimulator
from plugin.demo.admin_host import AdminHost
from plugin.extensions import connectors
from plugin.web.shopify_auth import install_credentials_refresher

logger = logging.getLogger(__name__)

SIMULATOR_KEY = "tastemaker.demo.shopify_simulator"
ADMIN_HOST_KEY = "tastemaker.demo.shopify_admin_host"
DEMO_API_KEY = "demo-shopify-api-key"
DEMO_API_SECRET = "demo-shopify-api-secret-0123456789"  # noqa: S105 - the simulator's own
DEMO_SHOPS = ("tastemaker-demo.myshopify.com", "second-demo.myshopify.com")
ADMIN_PORT_OFFSET = 100  # the admin stand-in listens 100 ports above the app
CREATORS = (
    ({"handle": "nora.knits", "name": "Nora Lind", "email": "nora@example.com"}, "NORA15"),
    ({"handle": "theo.crafts", "name": "Theo Adeyemi", "email": "theo@example.com"}, "THEO10"),
)
TIMEOUT = 10


def start(app: Flask, base_url: str) -> list[str]:
    registry = connectors(app)
    api_key = registry.config.shopify_api_key or DEMO_API_KEY
    api_secret = registry.config.shopify_api_secret or DEMO_API_SECRET
    admin = _start_admin_host(api_key, api_secret, base_url)
    simulator = ShopifySimulator(
        api_key,
        api_secret,
        app_url=base_url,
        # What shopify.app.toml subscribes for every shop (see connectors.shopify.app_toml).
        config_webhooks=dict.fromkeys(APP_CONFIG_TOPICS, base_url + "/webhooks/shopify"),
        open_app=admin.app_link,
    ).start()
    # Everything the app sends to https://{shop} now goes to the simulator (path-prefixed).
    config = replace(
        registry.config,
        shopify_api_key=api_key,
        shopify_api_secret=api_secret,
        shopify_base_url_override=simulator.url,
    )
    registry.config = config
    connector = registry.get("shopify")
    if isinstance(connector, ShopifyConnector):
        connector.configure(config)
    install_credentials_refresher(app)
    # The framed pages load App Bridge from the stand-in and may be framed by it.
    app.config["TASTEMAKER"] = app.config["TASTEMAKER"].with_overrides(
        shopify_admin_origin=admin.url, shopify_app_bridge_url=admin.app_bridge_url
    )
    app.extensions[SIMULATOR_KEY] = simulator
    app.extensions[ADMIN_HOST_KEY] = admin
    _install_and_seed(admin, base_url, DEMO_SHOPS[0])
    return [
        f"Shopify (simulated at {simulator.url}; its admin stand-in at {admin.url}):",
        f"  open Tastemaker inside {DEMO_SHOPS[0]}'s admin: {admin.app_link(DEMO_SHOPS[0])}",
        f"  install on {DEMO_SHOPS[1]} (Shopify-managed): {simulator.install_url(DEMO_SHOPS[1])}",
        "  the app runs framed on another site with App Bridge session tokens, no cookie",
    ]


def _start_admin_host(api_key: str, api_secret: str, base_url: str) -> AdminHost:
    parts = urlsplit(base_url)
    # Another site than the app's (localhost vs 127.0.0.1): the app is a third party there.
    host = "localhost" if parts.hostname in ("127.0.0.1", "0.0.0.0") else "127.0.0.1"  # noqa: S104
    admin = AdminHost(api_key, api_secret, base_url)
    try:
        return admin.start(host, (parts.port or 80) + ADMIN_PORT_OFFSET)
    except OSError:
        return admin.start(host, 0)


def _install_and_seed(admin: AdminHost, base_url: str, shop: str) -> None:
    """What a merchant's first visit does (token-exchange install), then creators and codes
    added through the admin API with the same kind of session token."""
    query = {"embedded": "1", "shop": shop, "id_token": admin.session_token(shop)}
    opened = requests.get(
        f"{base_url}/admin?{urlencode(query)}",
        headers={"Sec-Fetch-Dest": "iframe"},
        timeout=TIMEOUT,
    )
    opened.raise_for_status()
    for creator, code in CREATORS:
        headers = {"Authorization": f"Bearer {admin.session_token(shop)}"}
        made = requests.post(
            f"{base_url}/api/v1/creators", json=creator, headers=headers, timeout=TIMEOUT
        )
        made.raise_for_status()
        body = {"creator_id": made.json()["id"], "code": code, "kind": "percentage", "value": 1500}
        requests.post(
            f"{base_url}/api/v1/discount-codes", json=body, headers=headers, timeout=TIMEOUT
        ).raise_for_status()
    logger.info("demo shop %s installed by token exchange and seeded", shop)
