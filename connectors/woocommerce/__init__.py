"""WooCommerce: key-granting install, signed webhooks, coupons and reconciliation (REST wc/v3)."""

from connectors.woocommerce.connector import WooCommerceConnector

__all__ = ["WooCommerceConnector"]
