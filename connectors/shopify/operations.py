"""The GraphQL Admin operations Tastemaker runs: discount codes, webhooks, shop details.

Each function takes the client, the shop domain and an access token, runs one documented
operation and turns `userErrors` into the connector's exceptions.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import (
    CreatedDiscountCode,
    DiscountCodeSpec,
    DiscountCodeTaken,
    TerminalConnectorError,
)
from connectors.shopify.graphql import GraphQLClient, describe, user_errors
from connectors.shopify.money import from_minor

CODE_LOOKUP = """
query CodeLookup($code: String!) {
  codeDiscountNodeByCode(code: $code) {
    id
    codeDiscount { ... on DiscountCodeBasic { title } }
  }
}
"""

CREATE_BASIC_CODE = """
mutation CreateBasicCode($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode {
      id
      codeDiscount { ... on DiscountCodeBasic { title codes(first: 1) { nodes { code } } } }
    }
    userErrors { field code message }
  }
}
"""

DEACTIVATE_CODE = """
mutation DeactivateCode($id: ID!) {
  discountCodeDeactivate(id: $id) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""

WEBHOOK_SUBSCRIPTIONS = """
query WebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CREATE_WEBHOOK = """
mutation CreateWebhook(
  $topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""

SHOP_DETAILS = """
query ShopDetails {
  shop { name myshopifyDomain currencyCode ianaTimezone }
}
"""

APP_INSTALLATION = """
query AppInstallation {
  currentAppInstallation { id }
}
"""

SET_METAFIELDS = """
mutation SetAppData($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { namespace key }
    userErrors { field code message }
  }
}
"""

APP_DATA_NAMESPACE = "tastemaker"

COMBINES_WITH = {
    "order": "orderDiscounts",
    "product": "productDiscounts",
    "shipping": "shippingDiscounts",
    "orderDiscounts": "orderDiscounts",
    "productDiscounts": "productDiscounts",
    "shippingDiscounts": "shippingDiscounts",
}
ALTERNATIVES_WANTED = 3
ALTERNATIVES_CHECKED = 6


@dataclass(frozen=True)
class ShopDetails:
    name: str
    domain: str
    currency: str
    timezone: str


def shop_details(client: GraphQLClient, shop: str, token: str) -> ShopDetails:
    data = client.execute(shop, token, SHOP_DETAILS, estimated_cost=1)
    details = data.get("shop") or {}
    return ShopDetails(
        name=str(details.get("name") or shop),
        domain=str(details.get("myshopifyDomain") or shop),
        currency=str(details.get("currencyCode") or "USD").upper(),
        timezone=str(details.get("ianaTimezone") or "UTC"),
    )


def basic_code_input(spec: DiscountCodeSpec, shop_currency: str) -> dict[str, Any]:
    if spec.kind == "percentage":
        if not 0 < spec.value <= 10_000:
            raise TerminalConnectorError(f"percentage must be 1..10000 bps, got {spec.value}")
        value: dict[str, Any] = {"percentage": round(spec.value / 10_000, 4)}
    elif spec.kind == "fixed_amount":
        if spec.currency.upper() != shop_currency.upper():
            # Shopify applies fixed amounts in the shop's currency; converting is not ours to do.
            raise TerminalConnectorError(
                f"fixed amount in {spec.currency} for a shop selling in {shop_currency}"
            )
        value = {
            "discountAmount": {
                "amount": from_minor(spec.value, shop_currency),
                "appliesOnEachItem": False,
            }
        }
    else:
        raise TerminalConnectorError(f"unknown discount kind {spec.kind!r}")
    combines: dict[str, bool] = {}
    for key, allowed in spec.combines_with.items():
        if key not in COMBINES_WITH:
            raise TerminalConnectorError(f"unknown combines_with key {key!r}")
        combines[COMBINES_WITH[key]] = bool(allowed)
    return {
        "title": spec.title,
        "code": spec.code,
        "startsAt": spec.starts_at.isoformat(),
        "endsAt": spec.ends_at.isoformat() if spec.ends_at else None,
        "context": {"all": "ALL"},
        "customerGets": {"value": value, "items": {"all": True}},
        "appliesOncePerCustomer": spec.once_per_customer,
        "usageLimit": spec.usage_limit,
        "combinesWith": combines,
    }


def lookup_code(client: GraphQLClient, shop: str, token: str, code: str) -> Mapping[str, Any]:
    data = client.execute(shop, token, CODE_LOOKUP, {"code": code}, estimated_cost=2)
    node = data.get("codeDiscountNodeByCode")
    return node if isinstance(node, Mapping) else {}


def create_code(
    client: GraphQLClient, shop: str, token: str, spec: DiscountCodeSpec, shop_currency: str
) -> CreatedDiscountCode:
    variables = {"basicCodeDiscount": basic_code_input(spec, shop_currency)}
    existing = lookup_code(client, shop, token, spec.code)
    if existing:
        if _title(existing) == spec.title:
            # Ours from an earlier attempt whose result was lost: the job is safe to rerun.
            return CreatedDiscountCode(platform_id=str(existing["id"]), code=spec.code)
        raise DiscountCodeTaken(spec.code, free_alternatives(client, shop, token, spec.code))
    data = client.execute(shop, token, CREATE_BASIC_CODE, variables, estimated_cost=10)
    payload = data.get("discountCodeBasicCreate") or {}
    errors = user_errors(payload)
    if any(error.get("code") == "TAKEN" for error in errors):
        # Someone created it between the lookup and the mutation.
        raise DiscountCodeTaken(spec.code, free_alternatives(client, shop, token, spec.code))
    if errors:
        raise TerminalConnectorError(f"discountCodeBasicCreate refused: {describe(errors)}")
    node = payload.get("codeDiscountNode") or {}
    if not node.get("id"):
        raise TerminalConnectorError("discountCodeBasicCreate returned no discount node")
    return CreatedDiscountCode(platform_id=str(node["id"]), code=spec.code)


def free_alternatives(client: GraphQLClient, shop: str, token: str, code: str) -> list[str]:
    found: list[str] = []
    for candidate in _candidates(code):
        if len(found) == ALTERNATIVES_WANTED:
            break
        if not lookup_code(client, shop, token, candidate):
            found.append(candidate)
    return found


def _candidates(code: str) -> list[str]:
    numbered = [f"{code}{n}" for n in range(2, 2 + ALTERNATIVES_CHECKED - 2)]
    randomized = [f"{code}{secrets.randbelow(900) + 100}" for _ in range(2)]
    return numbered + randomized


def deactivate_code(client: GraphQLClient, shop: str, token: str, platform_id: str) -> None:
    data = client.execute(shop, token, DEACTIVATE_CODE, {"id": platform_id}, estimated_cost=10)
    errors = user_errors(data.get("discountCodeDeactivate"))
    if errors:
        raise TerminalConnectorError(f"discountCodeDeactivate refused: {describe(errors)}")


def webhook_topic_enum(topic: str) -> str:
    """ "orders/create" -> "ORDERS_CREATE" (WebhookSubscriptionTopic)."""
    return topic.replace("/", "_").upper()


def register_webhooks(
    client: GraphQLClient, shop: str, token: str, callback_url: str, topics: Iterable[str]
) -> list[str]:
    """Create the missing subscriptions to `callback_url`; returns the topics created."""
    existing = _existing_subscriptions(client, shop, token)
    created: list[str] = []
    for topic in topics:
        enum = webhook_topic_enum(topic)
        if (enum, callback_url) in existing:
            continue
        variables = {
            "topic": enum,
            "webhookSubscription": {"uri": callback_url, "format": "JSON"},
        }
        data = client.execute(shop, token, CREATE_WEBHOOK, variables, estimated_cost=10)
        errors = user_errors(data.get("webhookSubscriptionCreate"))
        if errors:
            raise TerminalConnectorError(
                f"webhookSubscriptionCreate {enum} refused: {describe(errors)}"
            )
        created.append(topic)
    return created


def _existing_subscriptions(client: GraphQLClient, shop: str, token: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    after: str | None = None
    while True:
        data = client.execute(
            shop, token, WEBHOOK_SUBSCRIPTIONS, {"after": after}, estimated_cost=15
        )
        connection = data.get("webhookSubscriptions") or {}
        for node in connection.get("nodes") or ():
            found.add((str(node.get("topic")), str(node.get("uri"))))
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return found
        after = page.get("endCursor")


def _title(node: Mapping[str, Any]) -> str | None:
    discount = node.get("codeDiscount")
    return str(discount.get("title")) if isinstance(discount, Mapping) else None


def set_app_data(client: GraphQLClient, shop: str, token: str, values: Mapping[str, str]) -> None:
    """App-data metafields (`app.metafields.tastemaker.*` in theme blocks) on our installation."""
    data = client.execute(shop, token, APP_INSTALLATION, estimated_cost=1)
    installation = (data.get("currentAppInstallation") or {}).get("id")
    if not installation:
        raise TerminalConnectorError(f"no app installation visible for {shop}")
    metafields = [
        {
            "ownerId": installation,
            "namespace": APP_DATA_NAMESPACE,
            "key": key,
            "type": "single_line_text_field",
            "value": value,
        }
        for key, value in sorted(values.items())
    ]
    result = client.execute(
        shop, token, SET_METAFIELDS, {"metafields": metafields}, estimated_cost=10
    )
    errors = user_errors(result.get("metafieldsSet"))
    if errors:
        raise TerminalConnectorError(f"metafieldsSet refused: {describe(errors)}")
