"""Shopify: OAuth install with expiring offline tokens, signed webhooks, GraphQL Admin API."""

from connectors.shopify.connector import ShopifyConnector

__all__ = ["ShopifyConnector"]
