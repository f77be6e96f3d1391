"""REST Order and Refund fixtures into the connector dataclasses, to the minor unit."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from connectors.base import LineItem, MalformedPayload, NormalizedRefund
from connectors.shopify import ShopifyConnector
from connectors.shopify.money import THREE_DECIMAL, ZERO_DECIMAL, to_minor
from connectors.shopify.normalize import hash_email
from plugin.crypto import hash_email as core_hash_email
from plugin.domain.money import currency_exponent
from tests.shopify.conftest import fixture_json

FIXTURE_REFUND = NormalizedRefund(
    platform_refund_id=509562969,
    platform_order_id=450789469,
    created_at=datetime(2025, 4, 2, 16, 29, 59, tzinfo=UTC),
    currency="USD",
    item_amount_minor=19566 + 19567,
    total_amount_minor=20900,
)


def test_order_with_a_discount_code(connector: ShopifyConnector) -> None:
    # when
    order = connector.parse_order(fixture_json("orders-create-with-discount-code.json"))
    # then
    assert order.platform == "shopify"
    assert order.platform_order_id == 450789469
    assert order.order_number == "#1001"
    assert order.status == "partially_refunded"
    assert order.created_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert order.updated_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert (order.currency, order.presentment_currency) == ("USD", "USD")
    assert order.subtotal_minor == 59700
    assert order.discount_minor == 1000
    assert order.tax_minor == 1194
    assert order.shipping_minor == 0
    assert order.total_minor == 59894
    assert order.presentment_total_minor == 59894
    assert order.line_items == (
        LineItem(466157049, 632910392, 39072856, "IPod Nano - 8gb", 1, 19900, 334, 398),
        LineItem(518995019, 632910392, 49148385, "IPod Nano - 8gb", 1, 19900, 333, 398),
        LineItem(703073504, 632910392, 457924702, "IPod Nano - 8gb", 1, 19900, 333, 398),
    )
    assert order.net_item_revenue_minor == 3 * 19900 - 1000
    assert order.discount_codes == ("TENOFF",)
    assert order.click_id is None
    assert order.landing_site == "http://www.example.com?source=abc"
    assert order.referring_site == "http://www.otherexample.com"
    assert order.customer_id == "207119551"
    assert order.customer_email_hash == core_hash_email("bob.norman@mail.example.com")
    assert order.is_first_order is None
    assert order.test is False
    assert order.cancelled_at is None
    assert order.refunds == (FIXTURE_REFUND,)


def test_a_code_applied_as_manual_discount_is_still_the_orders_code(
    connector: ShopifyConnector,
) -> None:
    # given an API-created order: discount_applications says "manual", discount_codes has FAKE30
    payload = fixture_json("orders-create-percentage-code-via-api.json")
    assert payload["discount_applications"][0]["type"] == "manual"
    # when
    order = connector.parse_order(payload)
    # then
    assert order.discount_codes == ("FAKE30",)
    assert order.status == "paid"
    assert order.platform_order_id == 1073459981
    assert (order.subtotal_minor, order.discount_minor, order.total_minor) == (18109, 1791, 18109)
    assert order.tax_minor == 0
    assert order.line_items == (
        LineItem(1071823193, 921728736, 447654529, "IPod Touch 8GB", 1, 19900, 1791, 0),
    )
    assert order.net_item_revenue_minor == 18109
    assert (order.landing_site, order.referring_site) == (None, None)
    assert order.customer_id == "1073339475"
    assert order.customer_email_hash == core_hash_email("jane@example.com")
    assert order.refunds == ()


def test_a_cancelled_order(connector: ShopifyConnector) -> None:
    order = connector.parse_order(fixture_json("orders-cancelled.json"))
    assert order.status == "cancelled"
    assert order.cancelled_at == datetime(2025, 4, 2, 16, 31, 25, tzinfo=UTC)
    assert order.updated_at == datetime(2025, 4, 2, 16, 31, 25, tzinfo=UTC)
    assert order.total_minor == 59894
    assert order.refunds == (FIXTURE_REFUND,)


def test_a_refund(connector: ShopifyConnector) -> None:
    # when
    refund = connector.parse_refund(fixture_json("refunds-create.json"), "USD")
    # then: items are the refunded lines' subtotals (ex tax), total is the refund transaction
    assert refund == NormalizedRefund(
        platform_refund_id=509562969,
        platform_order_id=450789469,
        created_at=datetime(2025, 4, 2, 16, 38, 15, tzinfo=UTC),
        currency="USD",
        item_amount_minor=39133,
        total_amount_minor=20900,
    )


def test_failed_refund_transactions_do_not_count(connector: ShopifyConnector) -> None:
    payload = fixture_json("refunds-create.json")
    payload["transactions"][0]["status"] = "failure"
    assert connector.parse_refund(payload, "USD").total_amount_minor == 0


def test_the_click_id_comes_from_note_attributes(connector: ShopifyConnector) -> None:
    payload = fixture_json("orders-create-with-discount-code.json")
    payload["note_attributes"].append({"name": "tm_click", "value": "0123456789abcdef" * 2})
    assert connector.parse_order(payload).click_id == "0123456789abcdef" * 2


def test_test_orders_are_flagged(connector: ShopifyConnector) -> None:
    payload = fixture_json("orders-create-with-discount-code.json")
    payload["test"] = True
    assert connector.parse_order(payload).test is True


def test_ids_beyond_two_to_the_53_stay_exact(connector: ShopifyConnector) -> None:
    payload = fixture_json("orders-create-with-discount-code.json")
    payload["id"] = 820982911946154508
    payload["customer"]["id"] = 115310627314723954
    order = connector.parse_order(payload)
    assert order.platform_order_id == 820982911946154508
    assert order.customer_id == "115310627314723954"


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    [("JPY", "1990", 1990), ("KWD", "1.995", 1995), ("USD", "0.10", 10), ("EUR", "12", 1200)],
)
def test_money_uses_the_currencys_minor_unit(
    connector: ShopifyConnector, currency: str, amount: str, minor: int
) -> None:
    payload = fixture_json("orders-create-percentage-code-via-api.json")
    payload["currency"] = currency
    payload["total_price_set"]["shop_money"]["amount"] = amount
    assert connector.parse_order(payload).total_minor == minor


def test_the_exponent_table_agrees_with_the_core() -> None:
    for code in ZERO_DECIMAL | THREE_DECIMAL | {"USD", "EUR", "GBP"}:
        assert to_minor("1", code) == 10 ** currency_exponent(code)


def test_the_email_hash_matches_the_cores() -> None:
    assert hash_email("  Bob.Norman@Mail.Example.com ") == core_hash_email(
        "bob.norman@mail.example.com"
    )
    assert hash_email("") is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("id"),
        lambda p: p.update(id="not-a-number"),
        lambda p: p.update(id=1.5),
        lambda p: p.update(created_at="yesterday"),
        lambda p: p.update(currency=None),
        lambda p: p["total_price_set"]["shop_money"].update(amount=12.5),
        lambda p: p["line_items"][0].pop("quantity"),
    ],
)
def test_garbage_orders_raise_malformed_payload(connector: ShopifyConnector, mutate) -> None:  # type: ignore[no-untyped-def]
    payload = copy.deepcopy(fixture_json("orders-create-with-discount-code.json"))
    mutate(payload)
    with pytest.raises(MalformedPayload):
        connector.parse_order(payload)


@pytest.mark.parametrize("payload", [[], "order", {"id": 1}, {"order_id": 2, "created_at": None}])
def test_garbage_refunds_raise_malformed_payload(
    connector: ShopifyConnector, payload: object
) -> None:
    with pytest.raises(MalformedPayload):
        connector.parse_refund(payload, "USD")  # type: ignore[arg-type]


def test_the_uninstall_body_is_not_an_order(connector: ShopifyConnector) -> None:
    with pytest.raises(MalformedPayload):
        connector.parse_order(fixture_json("app-uninstalled.json"))
