"""What the Shopify simulator remembers per shop, and its GraphQL Admin operations.

The GraphQL side is deliberately small: it dispatches on the operation's first root field and
answers with the fields Tastemaker selects (selections are not evaluated), including
`userErrors`, the `extensions.cost` block, THROTTLED errors from a per-shop leaky bucket, and
scripted failures (429, 5xx) for tests.
"""

from __future__ import annotations

import base64
import itertools
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.shopify.simulator_orders import graphql_order

MAXIMUM_AVAILABLE = 2000.0
RESTORE_RATE = 100.0
ROOT_FIELD = re.compile(r"\{\s*(\w+)")
UPDATED_SINCE = re.compile(r"updated_at:>=\s*'?([^'\s]+)'?")
COSTS = {
    "shop": 1,
    "codeDiscountNodeByCode": 1,
    "discountCodeBasicCreate": 10,
    "discountCodeDeactivate": 10,
    "webhookSubscriptions": 12,
    "webhookSubscriptionCreate": 10,
    "currentAppInstallation": 1,
    "metafieldsSet": 10,
    "customers": 2,
    "storeCreditAccountCredit": 10,
}
EMAIL_QUERY = re.compile(r'email:"?([^"\s]+)"?')
COMPLIANCE_ENUMS = frozenset({"CUSTOMERS_DATA_REQUEST", "CUSTOMERS_REDACT", "SHOP_REDACT"})


@dataclass
class SimShop:
    domain: str
    name: str
    currency: str = "USD"
    timezone: str = "America/New_York"
    installed: bool = True
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)  # lowercased code -> node
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)  # REST payloads
    bucket_available: float = MAXIMUM_AVAILABLE
    bucket_at: float = 0.0
    failures: list[tuple[str, float]] = field(default_factory=list)  # (kind, retry_after)
    installation_id: str = ""
    app_metafields: dict[str, str] = field(default_factory=dict)  # "namespace.key" -> value
    customers: dict[str, str] = field(default_factory=dict)  # lowercased email -> customer gid
    # customer gid -> {currency: balance in decimal strings}, and every credit transaction
    store_credit: dict[str, dict[str, str]] = field(default_factory=dict)
    credit_transactions: list[dict[str, Any]] = field(default_factory=list)


class GraphQLError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class SimulatorState:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.shops: dict[str, SimShop] = {}
        self.ids = itertools.count(1_000_001)

    def shop(self, domain: str) -> SimShop:
        with self.lock:
            if domain not in self.shops:
                name = domain.split(".", 1)[0].replace("-", " ").title()
                self.shops[domain] = SimShop(
                    domain=domain,
                    name=name,
                    bucket_at=self.clock(),
                    installation_id=f"gid://shopify/AppInstallation/{next(self.ids)}",
                )
            return self.shops[domain]

    # -- the cost bucket ----------------------------------------------------------------------

    def throttle_status(self, shop: SimShop) -> dict[str, float]:
        now = self.clock()
        # Rounded like Shopify's own figures (and so float noise never decides a throttle).
        shop.bucket_available = round(
            min(MAXIMUM_AVAILABLE, shop.bucket_available + (now - shop.bucket_at) * RESTORE_RATE),
            3,
        )
        shop.bucket_at = now
        return {
            "maximumAvailable": MAXIMUM_AVAILABLE,
            "currentlyAvailable": shop.bucket_available,
            "restoreRate": RESTORE_RATE,
        }

    def set_available(self, domain: str, available: float) -> None:
        with self.lock:
            shop = self.shop(domain)
            shop.bucket_available = available
            shop.bucket_at = self.clock()

    # -- GraphQL ------------------------------------------------------------------------------

    def execute(self, domain: str, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            shop = self.shop(domain)
            match = ROOT_FIELD.search(query)
            root = match.group(1) if match else ""
            first = re.search(rf"{root}\(first:\s*(\d+)", query)
            variables = {**variables, "__first": int(first.group(1)) if first else 10}
            cost = float(self._cost(root, variables))
            status = self.throttle_status(shop)
            if status["currentlyAvailable"] < cost:
                return {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": {"cost": self._cost_block(cost, None, status)},
                }
            operation = getattr(self, f"op_{root}", None)
            if operation is None:
                return {
                    "errors": [
                        {
                            "message": f"Field '{root}' doesn't exist on type 'QueryRoot'",
                            "extensions": {"code": "undefinedField"},
                        }
                    ]
                }
            shop.bucket_available -= cost
            data = {root: operation(shop, variables)}
            return {
                "data": data,
                "extensions": {"cost": self._cost_block(cost, cost, self.throttle_status(shop))},
            }

    def _cost(self, root: str, variables: Mapping[str, Any]) -> int:
        if root == "orders":
            return int(variables["__first"]) * 140 + 2
        return COSTS.get(root, 1)

    @staticmethod
    def _cost_block(
        requested: float, actual: float | None, status: Mapping[str, float]
    ) -> dict[str, Any]:
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": status,
        }

    def op_shop(self, shop: SimShop, variables: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": shop.name,
            "myshopifyDomain": shop.domain,
            "currencyCode": shop.currency,
            "ianaTimezone": shop.timezone,
        }

    def op_codeDiscountNodeByCode(self, shop: SimShop, variables: Mapping[str, Any]) -> Any:
        node = shop.codes.get(str(variables.get("code", "")).lower())
        if node is None:
            return None
        return {
            "id": node["id"],
            "codeDiscount": {"__typename": "DiscountCodeBasic", "title": node["title"]},
        }

    def op_discountCodeBasicCreate(self, shop: SimShop, variables: Mapping[str, Any]) -> Any:
        data = variables.get("basicCodeDiscount") or {}
        errors = _discount_input_errors(data)
        code = str(data.get("code") or "")
        if not errors and code.lower() in shop.codes:
            errors.append(
                {
                    "field": ["basicCodeDiscount", "code"],
                    "code": "TAKEN",
                    "message": "Code must be unique. Please try a different code.",
                }
            )
        if errors:
            return {"codeDiscountNode": None, "userErrors": errors}
        node = {
            "id": f"gid://shopify/DiscountCodeNode/{next(self.ids)}",
            "code": code,
            "title": data["title"],
            "status": "ACTIVE",
            "input": dict(data),
        }
        shop.codes[code.lower()] = node
        return {
            "codeDiscountNode": {
                "id": node["id"],
                "codeDiscount": {"title": node["title"], "codes": {"nodes": [{"code": code}]}},
            },
            "userErrors": [],
        }

    def add_customer(self, domain: str, email: str) -> str:
        with self.lock:
            shop = self.shop(domain)
            gid = f"gid://shopify/Customer/{next(self.ids)}"
            shop.customers[email.lower()] = gid
            return gid

    def op_customers(self, shop: SimShop, variables: Mapping[str, Any]) -> Any:
        found = EMAIL_QUERY.search(str(variables.get("query") or ""))
        gid = shop.customers.get(found.group(1).lower()) if found else None
        nodes = [{"id": gid}] if gid else []
        return {"nodes": nodes[: int(variables["__first"])]}

    def op_storeCreditAccountCredit(self, shop: SimShop, variables: Mapping[str, Any]) -> Any:
        owner = str(variables.get("id") or "")
        credit = (variables.get("creditInput") or {}).get("creditAmount") or {}
        amount, currency = str(credit.get("amount") or ""), str(credit.get("currencyCode") or "")
        errors = []
        if owner not in shop.customers.values():
            errors.append(
                {"field": ["id"], "message": "Owner does not exist", "code": "ACCOUNT_NOT_FOUND"}
            )
        try:
            positive = Decimal(amount) > 0
        except InvalidOperation:
            positive = False
        if not positive:
            errors.append(
                {
                    "field": ["creditInput", "creditAmount", "amount"],
                    "message": "A positive amount must be used to credit a store credit account",
                    "code": "NEGATIVE_OR_ZERO_AMOUNT",
                }
            )
        if errors:
            return {"storeCreditAccountTransaction": None, "userErrors": errors}
        balances = shop.store_credit.setdefault(owner, {})
        balance = Decimal(balances.get(currency, "0")) + Decimal(amount)
        balances[currency] = f"{balance:f}"
        account = f"gid://shopify/StoreCreditAccount/{abs(hash((owner, currency))) % 10**9}"
        transaction = {
            "id": f"gid://shopify/StoreCreditAccountCreditTransaction/{next(self.ids)}",
            "amount": {"amount": amount, "currencyCode": currency},
            "account": {
                "id": account,
                "balance": {"amount": f"{balance:f}", "currencyCode": currency},
            },
        }
        shop.credit_transactions.append({**transaction, "owner": owner})
        return {"storeCreditAccountTransaction": transaction, "userErrors": []}

    def op_discountCodeDeactivate(self, shop: SimShop, variables: Mapping[str, Any]) -> Any:
        wanted = variables.get("id")
        for node in shop.codes.values():
            if node["id"] == wanted:
                node["status"] = "EXPIRED"
                return {"codeDiscountNode": {"id": node["id"]}, "userErrors": []}
        return {
            "codeDiscountNode": None,
            "userErrors": [
                {"field": ["id"], "code": "INVALID", "message": "Discount does not exist"}
            ],
        }

    def op_webhookSubscriptions(self, shop: SimShop, variables: Mapping[str, Any]) -> Any:
        return {
            "nodes": [
                {
                    "id": hook["id"],
                    "topic": hook["topic"],
                    "uri": hook["url"],
                }
                for hook in shop.webhooks
            ],
            "pageInfo": {"hasNextPage": False, "endCursor": None},
        }

    def op_webhookSubscriptionCreate(self, shop: SimShop, variables: Mapping[str, Any]) -> Any:
        topic = str(variables.get("topic") or "")
        url = str((variables.get("webhookSubscription") or {}).get("uri") or "")
        error = None
        if topic in COMPLIANCE_ENUMS or not re.fullmatch(r"[A-Z]+(_[A-Z]+)+", topic):
            error = {
                "field": ["topic"],
                "message": f"Topic {topic} cannot be subscribed via the API",
            }
        elif not url.startswith(("https://", "http://")):
            error = {
                "field": ["webhookSubscription", "uri"],
                "message": "Address is invalid",
            }
        elif any(hook["topic"] == topic and hook["url"] == url for hook in shop.webhooks):
            error = {
                "field": ["webhookSubscription", "uri"],
                "message": "Address for this topic has already been taken",
            }
        if error:
            return {"webhookSubscription": None, "userErrors": [error]}
        hook = {
            "id": f"gid://shopify/WebhookSubscription/{next(self.ids)}",
            "topic": topic,
            "url": url,
        }
        shop.webhooks.append(hook)
        return {"webhookSubscription": {"id": hook["id"], "topic": topic}, "userErrors": []}

    def op_currentAppInstallation(self, shop: SimShop, variables: Mapping[str, Any]) -> Any:
        return {"id": shop.installation_id}

    def op_metafieldsSet(self, shop: SimShop, variables: Mapping[str, Any]) -> Any:
        entries = variables.get("metafields") or []
        errors = [
            {"field": ["metafields", str(index), "ownerId"], "code": "INVALID", "message": "Owner"}
            for index, entry in enumerate(entries)
            if entry.get("ownerId") != shop.installation_id
        ]
        if errors:
            return {"metafields": None, "userErrors": errors}
        for entry in entries:
            shop.app_metafields[f"{entry['namespace']}.{entry['key']}"] = str(entry["value"])
        return {
            "metafields": [{"namespace": e["namespace"], "key": e["key"]} for e in entries],
            "userErrors": [],
        }

    def op_orders(self, shop: SimShop, variables: Mapping[str, Any]) -> Any:
        nodes = sorted(
            (graphql_order(order) for order in shop.orders),
            key=lambda node: (node["updatedAt"], int(node["legacyResourceId"])),
        )
        match = UPDATED_SINCE.search(str(variables.get("query") or ""))
        if match:
            since = _utc(match.group(1))
            nodes = [node for node in nodes if _utc(node["updatedAt"]) >= since]
        start = int(base64.b64decode(variables["after"]).decode()) if variables.get("after") else 0
        page = nodes[start : start + int(variables["__first"])]
        end = start + len(page)
        return {
            "nodes": page,
            "pageInfo": {
                "hasNextPage": end < len(nodes),
                "endCursor": base64.b64encode(str(end).encode()).decode() if page else None,
            },
        }


def _discount_input_errors(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = [
        {"field": ["basicCodeDiscount", name], "code": "BLANK", "message": f"{name} can't be blank"}
        for name in ("title", "code", "startsAt", "customerGets")
        if not data.get(name)
    ]
    if not data.get("context"):
        errors.append(
            {
                "field": ["basicCodeDiscount", "context"],
                "code": "BLANK",
                "message": "Context is required",
            }
        )
    value = ((data.get("customerGets") or {}).get("value")) or {}
    if "percentage" in value and not 0 < float(value["percentage"]) <= 1:
        errors.append(
            {
                "field": ["basicCodeDiscount", "customerGets", "value", "percentage"],
                "code": "VALUE_OUTSIDE_RANGE",
                "message": "Value must be between 0.0 and 1.0",
            }
        )
    return errors


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
