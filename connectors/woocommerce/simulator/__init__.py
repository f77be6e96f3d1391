"""A local WooCommerce store that speaks the real wire format, for tests and the demo."""

from connectors.woocommerce.simulator.hookshot import Delivery, Transport, http_transport
from connectors.woocommerce.simulator.orders import Item
from connectors.woocommerce.simulator.server import authorize
from connectors.woocommerce.simulator.store import ApiKey, SimulatedStore

__all__ = [
    "ApiKey",
    "Delivery",
    "Item",
    "SimulatedStore",
    "Transport",
    "authorize",
    "http_transport",
]
