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
    "plugin.web.lift_pages",
    "plugin.web.creator_portal",
    "plugin.web.storefront",
    "plugin.web.ugc_api",
    "plugin.web.shopify_auth",
    "plugin.web.woocommerce_auth",
    "plugin.web.sandbox_store",
    "plugin.web.rewards_api",
    "plugin.web.try_and_tag",
)


def init_app(app: Flask) -> None:
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(importlib.import_module(name).bp)
