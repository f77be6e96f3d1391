"""The one interface between Tastemaker's core and a store platform.

Typed dataclasses are the only currency across it: the core never imports a platform package, and
a connector never touches the database. Each platform registers one Connector in the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable


class ConnectorError(Exception):
    """Base class for connector failures."""


class RetryableConnectorError(ConnectorError):
    """A transient failure (timeout, 5xx, throttling): the job may try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TerminalConnectorError(ConnectorError):
    """A failure that retrying cannot fix (bad input, revoked credentials)."""


class CredentialsRevoked(TerminalConnectorError):
    """The store refused our credentials: the shop needs to be reconnected."""


class DiscountCodeTaken(TerminalConnectorError):
    def __init__(self, code: str, alternatives: Sequence[str]) -> None:
        super().__init__(f"discount code {code!r} already exists in the store")
        self.code = code
        self.alternatives = tuple(alternatives)


class WebhookRejected(Exception):
    """A delivery that must not be recorded; `reason` is a short label used in logs and counters."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class MalformedPayload(ValueError):
    """A verified body that cannot be understood; the event is kept with this error."""


@dataclass(frozen=True)
class InboundWebhook:
    """A delivery as received: raw body bytes and headers with lowercased names."""

    body: bytes
    headers: Mapping[str, str]
    content_type: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class VerifiedWebhook:
    """What a connector vouches for after checking the signature."""

    topic: str
    dedupe_key: str
    shop_domain: str
    triggered_at: datetime | None = None
    # True for deliveries that carry nothing to process (WooCommerce's creation ping).
    is_ping: bool = False


@dataclass(frozen=True)
class ShopContext:
    """What a connector needs to call one store: never an ORM object."""

    shop_id: int
    platform: str
    domain: str
    currency: str
    credentials: Mapping[str, Any]
    # Persists refreshed credentials atomically (expiring tokens); set by the core.
    save_credentials: Callable[[dict[str, Any]], None] | None = None


@dataclass(frozen=True)
class LineItem:
    platform_line_id: int
    product_id: int | None
    variant_id: int | None
    title: str
    quantity: int
    unit_price_minor: int
    # Discounts allocated to this line, shop currency minor units.
    discount_minor: int = 0
    tax_minor: int = 0

    @property
    def net_minor(self) -> int:
        return self.unit_price_minor * self.quantity - self.discount_minor


@dataclass(frozen=True)
class NormalizedRefund:
    platform_refund_id: int
    platform_order_id: int
    created_at: datetime
    currency: str
    # Item revenue given back, excluding tax and shipping (the commission base).
    item_amount_minor: int
    # What the customer got back in total (transactions), for reporting.
    total_amount_minor: int


ORDER_STATUSES = ("pending", "paid", "partially_refunded", "refunded", "cancelled", "failed")


@dataclass(frozen=True)
class NormalizedOrder:
    platform: str
    platform_order_id: int
    order_number: str
    status: str  # one of ORDER_STATUSES
    created_at: datetime
    updated_at: datetime
    currency: str  # shop currency: every *_minor amount below is in it
    presentment_currency: str
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    shipping_minor: int
    total_minor: int
    presentment_total_minor: int
    line_items: tuple[LineItem, ...] = ()
    discount_codes: tuple[str, ...] = ()
    click_id: str | None = None
    landing_site: str | None = None
    referring_site: str | None = None
    customer_id: str | None = None
    customer_email_hash: str | None = None
    is_first_order: bool | None = None
    test: bool = False
    cancelled_at: datetime | None = None
    refunds: tuple[NormalizedRefund, ...] = ()

    @property
    def net_item_revenue_minor(self) -> int:
        """Item revenue after discounts, excluding tax and shipping; never negative."""
        if self.line_items:
            return max(sum(item.net_minor for item in self.line_items), 0)
        return max(self.subtotal_minor, 0)


@dataclass(frozen=True)
class DiscountCodeSpec:
    code: str
    title: str
    kind: str  # "percentage" (value in basis points) or "fixed_amount" (value in minor units)
    value: int
    currency: str
    starts_at: datetime
    ends_at: datetime | None = None
    usage_limit: int | None = None
    once_per_customer: bool = False
    combines_with: Mapping[str, bool] = field(default_factory=dict)
    # Only these customers may use it (WooCommerce email restrictions); empty = anyone.
    customer_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreatedDiscountCode:
    platform_id: str
    code: str


@dataclass(frozen=True)
class StoreCreditSpec:
    """Store credit for the customer account of `customer_email`, in the shop currency."""

    customer_email: str
    amount_minor: int
    currency: str
    # Ours, unique per credit (e.g. "reward:12"); stores that can keep it (a coupon code) do.
    reference: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class IssuedStoreCredit:
    platform_id: str
    # Set when the store has no store credit and a single-use coupon stands in (WooCommerce).
    code: str | None = None


@dataclass(frozen=True)
class OrderPage:
    """Raw order payloads (the same shape a webhook carries) and where to continue."""

    payloads: tuple[Mapping[str, Any], ...]
    next_cursor: str | None


@runtime_checkable
class Connector(Protocol):
    platform: ClassVar[str]

    def webhook_shop_domain(self, delivery: InboundWebhook) -> str:
        """The shop a delivery claims to come from, read from its headers before verifying."""
        ...

    def verify_webhook(self, delivery: InboundWebhook, shop: ShopContext | None) -> VerifiedWebhook:
        """Check the signature over the raw body, never parsing first; raise WebhookRejected.

        `shop` is None when the claimed shop is unknown (e.g. after shop/redact); a platform that
        signs with an app-wide secret can still verify, one with per-shop secrets must reject.
        """
        ...

    def parse_order(self, payload: Mapping[str, Any]) -> NormalizedOrder:
        """Raise MalformedPayload when the payload is not an order."""
        ...

    def parse_refund(self, payload: Mapping[str, Any], currency: str) -> NormalizedRefund: ...

    def create_discount_code(
        self, shop: ShopContext, spec: DiscountCodeSpec
    ) -> CreatedDiscountCode: ...

    def deactivate_discount_code(self, shop: ShopContext, platform_id: str) -> None: ...

    def issue_store_credit(self, shop: ShopContext, spec: StoreCreditSpec) -> IssuedStoreCredit:
        """Credit the customer (Shopify store credit, or a single-use coupon restricted to the
        customer's email where the platform has no store credit). Not idempotent on its own:
        callers hold a lease and call it once per credit."""
        ...

    def orders_updated_since(
        self, shop: ShopContext, since: datetime, cursor: str | None = None
    ) -> OrderPage: ...

    def link_target_url(self, shop_domain: str, path: str, discount_code: str | None) -> str:
        """Where a referral link lands on the merchant's domain (before tracking parameters)."""
        ...


@dataclass(frozen=True)
class ConnectorConfig:
    """Plain settings a connector may need; built by the app from its Settings."""

    public_url: str
    shopify_api_key: str | None = None
    shopify_api_secret: str | None = None
    shopify_previous_api_secret: str | None = None
    shopify_api_version: str = "2025-07"
    shopify_base_url_override: str | None = None
    woocommerce_base_url_override: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


ConnectorFactory = Callable[[ConnectorConfig], Connector]

_FACTORIES: dict[str, ConnectorFactory] = {}


def register(platform: str) -> Callable[[ConnectorFactory], ConnectorFactory]:
    """Class decorator: `@register("shopify")` on a class whose __init__ takes a ConnectorConfig."""

    def decorate(factory: ConnectorFactory) -> ConnectorFactory:
        _FACTORIES[platform] = factory
        return factory

    return decorate


def registered_platforms() -> tuple[str, ...]:
    return tuple(sorted(_FACTORIES))


class ConnectorRegistry:
    """The connectors of one app instance, keyed by platform."""

    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config
        self._instances: dict[str, Connector] = {}

    def get(self, platform: str) -> Connector:
        if platform not in self._instances:
            try:
                factory = _FACTORIES[platform]
            except KeyError:
                raise LookupError(f"no connector registered for platform {platform!r}") from None
            self._instances[platform] = factory(self.config)
        return self._instances[platform]

    def platforms(self) -> tuple[str, ...]:
        return registered_platforms()

    def __iter__(self) -> Iterator[Connector]:
        return (self.get(platform) for platform in registered_platforms())
