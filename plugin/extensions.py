"""Per-app services other than the database and the queue: connectors, credentials, manifest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors import build_registry
from connectors.base import ConnectorConfig, ConnectorRegistry
from plugin.crypto import CredentialBox
from plugin.manifest import Manifest, load_manifest

if TYPE_CHECKING:
    from flask import Flask

CONNECTORS_KEY = "tastemaker.connectors"
CREDENTIALS_KEY = "tastemaker.credentials"
MANIFEST_KEY = "tastemaker.manifest"


def init_app(app: Flask) -> None:
    settings = app.config["TASTEMAKER"]
    app.extensions[MANIFEST_KEY] = load_manifest()
    app.extensions[CREDENTIALS_KEY] = CredentialBox(
        settings.encryption_key, fallback_secret=settings.secret_key
    )
    app.extensions[CONNECTORS_KEY] = build_registry(
        ConnectorConfig(
            public_url=settings.public_url,
            shopify_api_key=settings.shopify_api_key,
            shopify_api_secret=settings.shopify_api_secret,
            shopify_previous_api_secret=settings.shopify_previous_api_secret,
            shopify_api_version=settings.shopify_api_version,
            shopify_base_url_override=settings.shopify_base_url_override,
            woocommerce_base_url_override=settings.woocommerce_base_url_override,
        )
    )


def _app(app: Flask | None) -> Flask:
    from flask import current_app

    return app or current_app


def connectors(app: Flask | None = None) -> ConnectorRegistry:
    registry: ConnectorRegistry = _app(app).extensions[CONNECTORS_KEY]
    return registry


def credentials(app: Flask | None = None) -> CredentialBox:
    box: CredentialBox = _app(app).extensions[CREDENTIALS_KEY]
    return box


def manifest(app: Flask | None = None) -> Manifest:
    loaded: Manifest = _app(app).extensions[MANIFEST_KEY]
    return loaded
