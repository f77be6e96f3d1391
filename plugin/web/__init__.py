"""HTTP layer: thin blueprints, one module each, registered here."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

# Each module exposes `bp`, a Blueprint.
BLUEPRINT_MODULES = (
    "plugin.web.health",
    "plugin.web.webhooks",
    "plugin.web.links",
    "plugin.web.admin_api",
    "plugin.web.pages",
    "plugin.web.merchant",
    "plugin.web.admin_keys",
    "plugin.web.wordpress_login",
    "plugin.web.lift_pages",
    "plugin.web.creator_portal",
    "plugin.web.admin_contracts",
    "plugin.web.creator_contract",
    "plugin.web.storefront",
    "plugin.web.ugc_api",
    "plugin.web.shopify_auth",
    "plugin.web.woocommerce_auth",
    "plugin.web.sandbox_store",
    "plugin.web.rewards_api",
    "plugin.web.try_and_tag",
    "plugin.web.joining",
    "plugin.web.outbox",
)


# Each exposes `init_app(app)`, in this order: JSON errors under /api (first: it replaces the `int`
# converter the blueprints' rules use), security headers, how merchants are signed in (the
# session cookie only where a cookie is the proof) and what embedded pages need in templates.
INIT_MODULES = (
    "plugin.web.errors",
    "plugin.web.security_headers",
    "plugin.web.admin_auth",
    "plugin.web.embedding",
)


def init_app(app: Flask) -> None:
    for name in INIT_MODULES:
        importlib.import_module(name).init_app(app)
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(importlib.import_module(name).bp)
