"""The simulator's order store: REST Order fixtures projected to GraphQL Admin `Order` nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

FIXTURE_ORDERS = (
    "orders-create-with-discount-code.json",
    "orders-create-percentage-code-via-api.json",
)


def graphql_time(value: Any) -> str | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def graphql_order(rest: Mapping[str, Any]) -> dict[str, Any]:
    order_id = int(rest["id"])
    customer = rest.get("customer") or {}
    visit = (
        {"landingPage": rest.get("landing_site"), "referrerUrl": rest.get("referring_site")}
        if rest.get("landing_site") or rest.get("referring_site")
        else None
    )
    line_items = rest.get("line_items") or []
    return {
        "id": f"gid://shopify/Order/{order_id}",
        "legacyResourceId": str(order_id),
        "name": rest.get("name"),
        "createdAt": graphql_time(rest.get("created_at")),
        "updatedAt": graphql_time(rest.get("updated_at") or rest.get("created_at")),
        "cancelledAt": graphql_time(rest.get("cancelled_at")),
        "test": bool(rest.get("test")),
        "displayFinancialStatus": str(rest.get("financial_status") or "pending").upper(),
        "currencyCode": rest.get("currency"),
        "presentmentCurrencyCode": rest.get("presentment_currency") or rest.get("currency"),
        "email": rest.get("email"),
        "discountCodes": [entry["code"] for entry in rest.get("discount_codes") or ()],
        "customAttributes": [
            {"key": attribute["name"], "value": attribute.get("value")}
            for attribute in rest.get("note_attributes") or ()
        ],
        "customer": {"legacyResourceId": str(customer["id"])} if customer.get("id") else None,
        "customerJourneySummary": {"firstVisit": visit, "lastVisit": visit} if visit else None,
        "subtotalPriceSet": _bag(rest.get("subtotal_price_set")),
        "totalDiscountsSet": _bag(rest.get("total_discounts_set")),
        "totalTaxSet": _bag(rest.get("total_tax_set")),
        "totalShippingPriceSet": _bag(rest.get("total_shipping_price_set")),
        "totalPriceSet": _bag(rest.get("total_price_set")),
        "lineItems": {
            "pageInfo": {"hasNextPage": False},
            "nodes": [_line_item(item) for item in line_items],
        },
        "refunds": [_refund(refund) for refund in rest.get("refunds") or ()],
    }


def _line_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/LineItem/{item['id']}",
        "title": item.get("title"),
        "quantity": item.get("quantity"),
        "product": {"legacyResourceId": str(item["product_id"])}
        if item.get("product_id")
        else None,
        "variant": {"legacyResourceId": str(item["variant_id"])}
        if item.get("variant_id")
        else None,
        "originalUnitPriceSet": _bag(item.get("price_set")),
        "discountAllocations": [
            {"allocatedAmountSet": _bag(allocation.get("amount_set"))}
            for allocation in item.get("discount_allocations") or ()
        ],
        "taxLines": [
            {"priceSet": _bag(tax.get("price_set"))} for tax in item.get("tax_lines") or ()
        ],
    }


def _refund(refund: Mapping[str, Any]) -> dict[str, Any]:
    currency = _transaction_currency(refund)
    return {
        "legacyResourceId": str(refund["id"]),
        "createdAt": graphql_time(refund.get("created_at")),
        "refundLineItems": {
            "pageInfo": {"hasNextPage": False},
            "nodes": [
                {
                    "quantity": line.get("quantity"),
                    "lineItem": {"id": f"gid://shopify/LineItem/{line['line_item_id']}"},
                    "subtotalSet": _bag(line.get("subtotal_set")),
                    "totalTaxSet": _bag(line.get("total_tax_set")),
                }
                for line in refund.get("refund_line_items") or ()
            ],
        },
        "transactions": {
            "nodes": [
                {
                    "kind": str(transaction.get("kind") or "").upper(),
                    "status": str(transaction.get("status") or "").upper(),
                    "amountSet": {
                        "shopMoney": {
                            "amount": transaction.get("amount"),
                            "currencyCode": currency,
                        },
                        "presentmentMoney": {
                            "amount": transaction.get("amount"),
                            "currencyCode": currency,
                        },
                    },
                }
                for transaction in refund.get("transactions") or ()
            ]
        },
    }


def _transaction_currency(refund: Mapping[str, Any]) -> str | None:
    transactions: Sequence[Mapping[str, Any]] = refund.get("transactions") or ()
    return next((str(t["currency"]) for t in transactions if t.get("currency")), None)


def _bag(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    return {
        "shopMoney": _money(value.get("shop_money")),
        "presentmentMoney": _money(value.get("presentment_money")),
    }


def _money(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    return {"amount": value.get("amount"), "currencyCode": value.get("currency_code")}
