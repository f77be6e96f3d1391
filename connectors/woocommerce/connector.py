"""The WooCommerce connector: coupons, order listing, links, and (via subscriptions) webhooks.

Coupons are deactivated by moving `date_expires` into the past rather than deleting them: the
store keeps the code's usage history and the code stops applying at checkout at once.

Expiry is written as `date_expires` with an explicit UTC offset (`...Z`), the one form a real store
honours: it ignores `date_expires_gmt` on write (no setter), reads a bare time in the site's
timezone, and `date_expires: null` does not clear an expiry. The store's answer is checked, so a
write it ignored is an error instead of a code that silently keeps working.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.base import (
    ConnectorConfig,
    CreatedDiscountCode,
    DiscountCodeSpec,
    DiscountCodeTaken,
    InboundWebhook,
    IssuedStoreCredit,
    NormalizedOrder,
    NormalizedRefund,
    OrderPage,
    ShopContext,
    StoreCreditSpec,
    TerminalConnectorError,
    VerifiedWebhook,
    register,
)
from connectors.woocommerce import normalize, webhooks
from connectors.woocommerce.amounts import percent_string, to_decimal_string
from connectors.woocommerce.client import Pacer, StoreApiError, StoreClient
from connectors.woocommerce.stores import store_base_url

logger = logging.getLogger(__name__)

ORDERS_PER_PAGE = 50
DUPLICATE_COUPON_CODE = "woocommerce_rest_coupon_code_already_exists"
ALTERNATIVES_WANTED = 3


def _gmt_string(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def expiry_string(moment: datetime) -> str:
    """`date_expires` as a store reads it whatever its timezone: UTC with an explicit `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stored_expiry(coupon: Mapping[str, Any]) -> datetime | None:
    """The expiry a store answered with (`date_expires_gmt` is UTC without an offset)."""
    value = coupon.get("date_expires_gmt")
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@register("woocommerce")
class WooCommerceConnector:
    platform: ClassVar[str] = "woocommerce"

    def __init__(self, config: ConnectorConfig) -> None:
        interval = float(config.extra.get("woocommerce_request_interval", 1.0))
        # Shared by every reconciliation call in this process, keyed by store.
        self.pacer = Pacer(interval)
        self.configure(config)

    def configure(self, config: ConnectorConfig) -> None:
        """Adopt new settings (the demo points the override at a simulator it just started)."""
        self.config = config
        # Where a local simulator is reached over http; real stores are always https.
        self.override_url = config.woocommerce_base_url_override

    # -- store access ------------------------------------------------------------------------

    def base_url(self, domain: str) -> str:
        return store_base_url(domain, self.override_url)

    def client(self, shop: ShopContext, *, paced: bool = False) -> StoreClient:
        credentials = shop.credentials
        return StoreClient(
            self.base_url(shop.domain),
            str(credentials.get("consumer_key", "")),
            str(credentials.get("consumer_secret", "")),
            query_string_auth=bool(credentials.get("query_string_auth", False)),
            pacer=self.pacer if paced else None,
        )

    def remember_auth_mode(self, shop: ShopContext, client: StoreClient) -> None:
        """Persist the switch to query-string auth so later calls skip the failing Basic try."""
        if client.switched_to_query_auth and shop.save_credentials is not None:
            shop.save_credentials({**shop.credentials, "query_string_auth": True})
            client.switched_to_query_auth = False

    # -- webhooks ----------------------------------------------------------------------------

    def webhook_shop_domain(self, delivery: InboundWebhook) -> str:
        return webhooks.shop_domain(delivery)

    def verify_webhook(self, delivery: InboundWebhook, shop: ShopContext | None) -> VerifiedWebhook:
        return webhooks.verify(delivery, shop)

    # -- payloads ----------------------------------------------------------------------------

    def parse_order(self, payload: Mapping[str, Any]) -> NormalizedOrder:
        return normalize.parse_order(payload)

    def parse_refund(self, payload: Mapping[str, Any], currency: str) -> NormalizedRefund:
        return normalize.parse_refund(payload, currency)

    # -- coupons -----------------------------------------------------------------------------

    def create_discount_code(
        self, shop: ShopContext, spec: DiscountCodeSpec
    ) -> CreatedDiscountCode:
        client = self.client(shop)
        try:
            response = client.post("coupons", coupon_body(spec, shop.currency))
        except StoreApiError as exc:
            if exc.code != DUPLICATE_COUPON_CODE:
                raise
            raise DiscountCodeTaken(spec.code, self._free_alternatives(client, spec.code)) from exc
        finally:
            self.remember_auth_mode(shop, client)
        return CreatedDiscountCode(
            platform_id=str(response.data["id"]), code=str(response.data["code"])
        )

    def deactivate_discount_code(self, shop: ShopContext, platform_id: str) -> None:
        client = self.client(shop)
        now = datetime.now(UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            response = client.put(
                f"coupons/{int(platform_id)}",
                {"date_expires": expiry_string(midnight - timedelta(days=1))},
            )
        except StoreApiError as exc:
            if exc.status != 404:
                raise
            logger.info("coupon %s already gone from %s", platform_id, shop.domain)
            return
        finally:
            self.remember_auth_mode(shop, client)
        # Checked the way checkout does: an expiry in the past. Anything else means the store
        # (or a plugin on it) ignored the write and the code would go on working.
        expires = stored_expiry(response.data) if isinstance(response.data, dict) else None
        if expires is None or expires > now:
            raise TerminalConnectorError(
                f"{shop.domain} kept coupon {platform_id} expiring at {expires}: it still applies"
            )

    def issue_store_credit(self, shop: ShopContext, spec: StoreCreditSpec) -> IssuedStoreCredit:
        """WooCommerce has no store credit: a single-use fixed-amount coupon that only the
        customer's email can use. Its code comes from our reference, so a retry after a lost
        answer finds the coupon it made instead of making a second one."""
        code = "TM-" + re.sub(r"[^A-Z0-9]+", "-", spec.reference.upper()).strip("-")
        coupon = DiscountCodeSpec(
            code=code,
            title=f"Tastemaker store credit ({spec.reference})",
            kind="fixed_amount",
            value=spec.amount_minor,
            currency=spec.currency,
            starts_at=datetime.now(UTC),
            ends_at=spec.expires_at,
            usage_limit=1,
            once_per_customer=True,
            customer_emails=(spec.customer_email,),
        )
        try:
            created = self.create_discount_code(shop, coupon)
        except DiscountCodeTaken:
            client = self.client(shop)
            try:
                found = client.get("coupons", {"code": code}).data
            finally:
                self.remember_auth_mode(shop, client)
            if not found:
                raise
            return IssuedStoreCredit(platform_id=str(found[0]["id"]), code=str(found[0]["code"]))
        return IssuedStoreCredit(platform_id=created.platform_id, code=created.code)

    def _free_alternatives(self, client: StoreClient, code: str) -> list[str]:
        free: list[str] = []
        for suffix in range(2, 10):
            candidate = f"{code}{suffix}"
            if not client.get("coupons", {"code": candidate}).data:
                free.append(candidate)
            if len(free) == ALTERNATIVES_WANTED:
                break
        return free

    # -- reconciliation ----------------------------------------------------------------------

    def orders_updated_since(
        self, shop: ShopContext, since: datetime, cursor: str | None = None
    ) -> OrderPage:
        page = int(cursor or 1)
        client = self.client(shop, paced=True)
        try:
            response = client.get(
                "orders",
                {
                    "modified_after": _gmt_string(since),
                    "dates_are_gmt": "true",
                    # By id, so orders modified during the walk do not shift the pages.
                    "orderby": "id",
                    "order": "asc",
                    "per_page": ORDERS_PER_PAGE,
                    "page": page,
                },
            )
        finally:
            self.remember_auth_mode(shop, client)
        if not isinstance(response.data, list):
            raise TerminalConnectorError(f"orders listing of {shop.domain} is not a list")
        more = page < response.total_pages
        return OrderPage(payloads=tuple(response.data), next_cursor=str(page + 1) if more else None)

    # -- links -------------------------------------------------------------------------------

    def link_target_url(self, shop_domain: str, path: str, discount_code: str | None) -> str:
        """The merchant's page; `?coupon=CODE` is applied by the Tastemaker WordPress plugin."""
        url = self.base_url(shop_domain) + (path if path.startswith("/") else "/" + path)
        if discount_code:
            url += ("&" if "?" in url else "?") + urlencode({"coupon": discount_code})
        return url


def coupon_body(spec: DiscountCodeSpec, store_currency: str) -> dict[str, Any]:
    if spec.kind == "percentage":
        discount_type, amount = "percent", percent_string(spec.value)
    elif spec.kind == "fixed_amount":
        if spec.currency.upper() != store_currency.upper():
            raise TerminalConnectorError(
                f"a {spec.currency} amount cannot be a coupon in a {store_currency} store"
            )
        discount_type, amount = "fixed_cart", to_decimal_string(spec.value, spec.currency)
    else:
        raise TerminalConnectorError(f"unknown discount kind {spec.kind!r}")
    body: dict[str, Any] = {
        "code": spec.code,
        "description": spec.title,
        "discount_type": discount_type,
        "amount": amount,
        # WooCommerce has one switch for stacking: it combines with other coupons, or not.
        "individual_use": not any(spec.combines_with.values()),
    }
    # WooCommerce coupons have no start date: the core creates them when they should start.
    if spec.ends_at is not None:
        body["date_expires"] = expiry_string(spec.ends_at)
    if spec.usage_limit is not None:
        body["usage_limit"] = spec.usage_limit
    if spec.once_per_customer:
        body["usage_limit_per_user"] = 1
    if spec.customer_emails:
        body["email_restrictions"] = list(spec.customer_emails)
    return body
