"""Store platform connectors, one package per platform, behind connectors.base.Connector."""

from __future__ import annotations

import importlib
import logging

from connectors.base import ConnectorConfig, ConnectorRegistry

logger = logging.getLogger(__name__)

PLATFORM_PACKAGES = ("connectors.sandbox", "connectors.shopify", "connectors.woocommerce")


def load_platforms() -> None:
    """Import every platform package so it registers itself; skip one whose SDK is missing."""
    for package in PLATFORM_PACKAGES:
        try:
            importlib.import_module(package)
        except ImportError as exc:
            if exc.name == package:
                continue  # platform not shipped in this build
            logger.warning("connector %s disabled: missing dependency %s", package, exc.name)


def build_registry(config: ConnectorConfig) -> ConnectorRegistry:
    load_platforms()
    return ConnectorRegistry(config)
