"""The Shopify connector: webhooks, order parsing, discount codes and reconciliation reads.

Tokens are expiring offline tokens. The core refreshes them under a row lock in
plugin.services.credentials (through `credentials_need_refresh` / `refresh_credentials` here).
When a call finds its context's token near expiry, it asks `credentials_refresher` (installed by
the app, it runs that locked refresh in its own transaction); without one (the connector used on
its own) it refreshes directly and persists through `ShopContext.save_credentials`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from connectors.base import (
    ConnectorConfig,
    CreatedDiscountCode,
    CredentialsRevoked,
    DiscountCodeSpec,
    InboundWebhook,
    IssuedStoreCredit,
    NormalizedOrder,
    NormalizedRefund,
    OrderPage,
    ShopContext,
    StoreCreditSpec,
    VerifiedWebhook,
    register,
)
from connectors.shopify import normalize, operations, orders_query, store_credit, webhooks
from connectors.shopify.graphql import GraphQLClient
from connectors.shopify.oauth import TokenClient, TokenSet, authorize_url, parse_iso
from connectors.shopify.session_tokens import SessionToken, decode_session_token
from connectors.shopify.urls import ShopifyUrls

# Refresh this long before expiry, so a token never expires in the middle of a job.
REFRESH_MARGIN = timedelta(minutes=5)


@register("shopify")
class ShopifyConnector:
    platform: ClassVar[str] = "shopify"

    def __init__(self, config: ConnectorConfig) -> None:
        self.http = requests.Session()
        self.credentials_refresher: Callable[[ShopContext], Mapping[str, Any]] | None = None
        # Tokens refreshed for a stale context, by shop id, so one context refreshes once.
        self._refreshed: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.configure(config)

    def configure(self, config: ConnectorConfig) -> None:
        """(Re)point the connector, e.g. the demo aiming a running app at its simulator."""
        self.config = config
        self.api_key = config.shopify_api_key or ""
        self.urls = ShopifyUrls(config.shopify_api_version, config.shopify_base_url_override)
        self.graphql = GraphQLClient(self.urls, self.http)
        self.tokens = TokenClient(
            self.urls, self.api_key, config.shopify_api_secret or "", self.http
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(
            secret
            for secret in (self.config.shopify_api_secret, self.config.shopify_previous_api_secret)
            if secret
        )

    # -- webhooks -------------------------------------------------------------------------------

    def webhook_shop_domain(self, delivery: InboundWebhook) -> str:
        return webhooks.shop_domain_header(delivery)

    def verify_webhook(self, delivery: InboundWebhook, shop: ShopContext | None) -> VerifiedWebhook:
        # Shopify signs with the app's secret, not a per-shop one: deliveries for a shop we no
        # longer know (after shop/redact) still verify.
        return webhooks.verify(delivery, shop, self.secrets)

    def parse_order(self, payload: Mapping[str, Any]) -> NormalizedOrder:
        return normalize.parse_order(payload)

    def parse_refund(self, payload: Mapping[str, Any], currency: str) -> NormalizedRefund:
        return normalize.parse_refund(payload, currency)

    # -- install and tokens ---------------------------------------------------------------------

    def authorize_url(self, shop: str, scopes: Iterable[str], redirect_uri: str, state: str) -> str:
        return authorize_url(self.urls, shop, self.api_key, list(scopes), redirect_uri, state)

    def exchange_code(self, shop: str, code: str) -> TokenSet:
        return self.tokens.exchange_code(shop, code)

    def exchange_session_token(self, shop: str, session_token: str) -> TokenSet:
        return self.tokens.exchange_session_token(shop, session_token)

    def decode_session_token(self, token: str, now: float | None = None) -> SessionToken:
        return decode_session_token(token, self.api_key, self.secrets, now)

    def shop_details(self, shop: str, access_token: str) -> operations.ShopDetails:
        return operations.shop_details(self.graphql, shop, access_token)

    def credentials_need_refresh(
        self, credentials: Mapping[str, Any], now: datetime | None = None
    ) -> bool:
        expires_at = parse_iso(credentials.get("expires_at"))
        if expires_at is None:
            return False
        return (now or datetime.now(UTC)) >= expires_at - REFRESH_MARGIN

    def credentials_usable(
        self, credentials: Mapping[str, Any], now: datetime | None = None
    ) -> bool:
        """Whether stored credentials can still reach Shopify (directly or by a refresh)."""
        if not credentials.get("access_token"):
            return False
        current = now or datetime.now(UTC)
        expires_at = parse_iso(credentials.get("expires_at"))
        if expires_at is None or current < expires_at:
            return True
        refresh_expires = parse_iso(credentials.get("refresh_token_expires_at"))
        return bool(credentials.get("refresh_token")) and (
            refresh_expires is None or current < refresh_expires
        )

    def refresh_credentials(
        self, shop_domain: str, credentials: Mapping[str, Any], now: datetime | None = None
    ) -> dict[str, Any]:
        """Call the token endpoint once; the caller persists the result before using it."""
        refresh_token = credentials.get("refresh_token")
        if not refresh_token:
            raise CredentialsRevoked(f"{shop_domain} has an expiring token but no refresh token")
        refresh_expires = parse_iso(credentials.get("refresh_token_expires_at"))
        if refresh_expires is not None and (now or datetime.now(UTC)) >= refresh_expires:
            raise CredentialsRevoked(f"the refresh token of {shop_domain} has expired")
        token_set = self.tokens.refresh(shop_domain, str(refresh_token))
        return {**credentials, **token_set.as_credentials()}

    def _access_token(self, shop: ShopContext) -> str:
        credentials: Mapping[str, Any] = shop.credentials
        with self._lock:
            cached = self._refreshed.get(shop.shop_id)
        # Only ever a newer copy of stored credentials: an uninstalled shop has none to upgrade.
        if cached and credentials.get("access_token") and _expiry(cached) > _expiry(credentials):
            credentials = cached
        if self.credentials_need_refresh(credentials):
            if self.credentials_refresher is not None:
                credentials = dict(self.credentials_refresher(shop))
            else:
                credentials = self.refresh_credentials(shop.domain, credentials)
                if shop.save_credentials is not None:
                    shop.save_credentials(dict(credentials))
            with self._lock:
                self._refreshed[shop.shop_id] = dict(credentials)
        token = credentials.get("access_token")
        if not token:
            raise CredentialsRevoked(f"no access token stored for {shop.domain}")
        return str(token)

    # -- admin operations -----------------------------------------------------------------------

    def create_discount_code(
        self, shop: ShopContext, spec: DiscountCodeSpec
    ) -> CreatedDiscountCode:
        return operations.create_code(
            self.graphql, shop.domain, self._access_token(shop), spec, shop.currency
        )

    def deactivate_discount_code(self, shop: ShopContext, platform_id: str) -> None:
        operations.deactivate_code(self.graphql, shop.domain, self._access_token(shop), platform_id)

    def issue_store_credit(self, shop: ShopContext, spec: StoreCreditSpec) -> IssuedStoreCredit:
        return store_credit.credit(self.graphql, shop.domain, self._access_token(shop), spec)

    def register_webhooks(
        self, shop: ShopContext, callback_url: str, topics: Iterable[str]
    ) -> list[str]:
        return operations.register_webhooks(
            self.graphql, shop.domain, self._access_token(shop), callback_url, topics
        )

    def publish_app_data(self, shop: ShopContext, values: Mapping[str, str]) -> None:
        operations.set_app_data(self.graphql, shop.domain, self._access_token(shop), values)

    def orders_updated_since(
        self, shop: ShopContext, since: datetime, cursor: str | None = None
    ) -> OrderPage:
        return orders_query.orders_updated_since(
            self.graphql, shop.domain, self._access_token(shop), since, cursor
        )

    def link_target_url(self, shop_domain: str, path: str, discount_code: str | None) -> str:
        # The path is the merchant's own; "//host" would make it a protocol-relative redirect.
        clean = "/" + path.lstrip("/")
        base = self.urls.shop_base(shop_domain)
        if not discount_code:
            return f"{base}{clean}"
        # Shopify's shareable discount URL applies the code, then redirects within the shop.
        return f"{base}/discount/{quote(discount_code, safe='')}?redirect={quote(clean, safe='/')}"


def _expiry(credentials: Mapping[str, Any]) -> datetime:
    return parse_iso(credentials.get("expires_at")) or datetime.min.replace(tzinfo=UTC)
