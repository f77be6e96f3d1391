"""Order JSON -> NormalizedOrder: exact decimals, statuses, coupons, click id, refunds."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import LineItem, MalformedPayload, NormalizedRefund
from connectors.woocommerce.amounts import percent_string, to_decimal_string, to_minor
from connectors.woocommerce.normalize import CLICK_META_KEY, parse_order, parse_refund
from tests.woocommerce.conftest import fixture_json


def test_docs_order_is_normalized_exactly() -> None:
    # given WooCommerce's documented order 727
    payload = fixture_json("order-created.json")
    # when
    order = parse_order(payload)
    # then
    assert (order.platform, order.platform_order_id, order.order_number) == (
        "woocommerce",
        727,
        "727",
    )
    assert order.status == "paid"
    assert order.created_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert (order.currency, order.presentment_currency) == ("USD", "USD")
    assert (order.subtotal_minor, order.discount_minor, order.tax_minor) == (1800, 0, 135)
    assert (order.shipping_minor, order.total_minor, order.presentment_total_minor) == (
        1000,
        2935,
        2935,
    )
    assert order.line_items == (
        LineItem(315, 93, None, "Woo Single #1", 2, 300, 0, 45),
        LineItem(316, 22, 23, "Ship Your Idea &ndash; Color: Black, Size: M Test", 1, 1200, 0, 90),
    )
    assert order.net_item_revenue_minor == 1800
    assert order.discount_codes == ()
    assert order.click_id is None
    assert order.customer_id is None  # customer 0 is a guest
    assert order.customer_email_hash == hashlib.sha256(b"john.doe@example.com").hexdigest()
    assert order.refunds == ()
    assert order.cancelled_at is None


def test_coupon_lines_give_the_codes_and_discount_total_the_discount() -> None:
    order = parse_order(fixture_json("order-created-with-coupon.DERIVED.json"))
    assert order.discount_codes == ("10off",)
    assert order.discount_minor == 200


def test_codes_are_lowercased_and_empty_codes_dropped() -> None:
    payload = fixture_json("order-created.json")
    payload["coupon_lines"] = [{"id": 1, "code": "MAYA10"}, {"id": 2, "code": " "}]
    assert parse_order(payload).discount_codes == ("maya10",)


@pytest.mark.parametrize(
    ("wc_status", "status"),
    [
        ("pending", "pending"),
        ("on-hold", "pending"),
        ("checkout-draft", "pending"),
        ("processing", "paid"),
        ("completed", "paid"),
        ("cancelled", "cancelled"),
        ("trash", "cancelled"),
        ("failed", "failed"),
        ("refunded", "refunded"),
        ("shipped", "pending"),  # a plugin's own status never earns commission
    ],
)
def test_status_mapping(wc_status: str, status: str) -> None:
    payload = fixture_json("order-created.json")
    payload["status"] = wc_status
    assert parse_order(payload).status == status


def test_a_cancelled_order_is_cancelled_when_it_was_last_modified() -> None:
    payload = fixture_json("order-created.json")
    payload["status"] = "cancelled"
    assert parse_order(payload).cancelled_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)


def test_click_id_comes_from_the_companion_plugins_meta_key() -> None:
    payload = fixture_json("order-created.json")
    payload["meta_data"].append({"id": 1, "key": CLICK_META_KEY, "value": "c_8f3Kq2"})
    order = parse_order(payload)
    assert CLICK_META_KEY == "_tastemaker_click"
    assert order.click_id == "c_8f3Kq2"


@pytest.mark.parametrize("value", ["", "has space", "x" * 33, "<script>", None])
def test_a_click_id_that_is_not_ours_is_ignored(value: Any) -> None:
    payload = fixture_json("order-created.json")
    payload["meta_data"] = [{"id": 1, "key": CLICK_META_KEY, "value": value}]
    assert parse_order(payload).click_id is None


def test_registered_customer_id_is_kept_as_text() -> None:
    payload = fixture_json("order-created.json")
    payload["customer_id"] = 42
    payload["billing"]["email"] = "  John.Doe@Example.COM "
    order = parse_order(payload)
    assert order.customer_id == "42"
    assert order.customer_email_hash == hashlib.sha256(b"john.doe@example.com").hexdigest()


def test_uneven_line_keeps_its_total_exactly() -> None:
    payload = fixture_json("order-created.json")
    payload["line_items"] = [
        {
            "id": 1,
            "name": "Socks",
            "product_id": 5,
            "quantity": 3,
            "subtotal": "10.00",
            "total": "9.00",
            "total_tax": "0.00",
        }
    ]
    [line] = parse_order(payload).line_items
    assert (line.unit_price_minor, line.discount_minor, line.net_minor) == (334, 102, 900)


def test_partial_refund_makes_a_paid_order_partially_refunded() -> None:
    # given order 727 (items 18.00 of 29.35) with one refund of 10.00
    payload = fixture_json("order-created.json")
    payload["refunds"] = [{"id": 801, "reason": "", "total": "-10.00"}]
    # when
    order = parse_order(payload)
    # then the refund's item part is its share of item revenue: 10.00 x 18.00 / 29.35
    assert order.status == "partially_refunded"
    assert order.refunds == (
        NormalizedRefund(801, 727, datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC), "USD", 613, 1000),
    )


def test_refund_parts_of_a_fully_refunded_order_add_up_to_its_item_revenue() -> None:
    # given two refunds (listed newest first, as WooCommerce does) covering the whole order
    payload = fixture_json("order-created.json")
    payload["status"] = "refunded"
    payload["refunds"] = [
        {"id": 802, "reason": "", "total": "-19.35"},
        {"id": 801, "reason": "", "total": "-10.00"},
    ]
    # when
    order = parse_order(payload)
    # then allocation is cumulative in id order, so nothing is lost to rounding
    assert order.status == "refunded"
    assert [
        (r.platform_refund_id, r.item_amount_minor, r.total_amount_minor) for r in order.refunds
    ] == [
        (801, 613, 1000),
        (802, 1187, 1935),
    ]
    assert sum(r.item_amount_minor for r in order.refunds) == order.net_item_revenue_minor


def test_refund_object_without_line_items_counts_as_item_revenue() -> None:
    refund = parse_refund(fixture_json("order-refund.json"), "usd")
    assert refund == NormalizedRefund(
        726, 723, datetime(2017, 3, 21, 20, 7, 11, tzinfo=UTC), "USD", 1000, 1000
    )


def test_refund_object_with_line_items_gives_back_their_ex_tax_totals() -> None:
    payload = {
        "id": 9,
        "order_id": 727,
        "date_created_gmt": "2026-01-02T03:04:05",
        "amount": "13.25",
        "line_items": [
            {"id": 1, "total": "-6.00", "total_tax": "-0.45"},
            {"id": 2, "total": "-6.00", "total_tax": "-0.80"},
        ],
    }
    refund = parse_refund(payload, "USD")
    assert (refund.item_amount_minor, refund.total_amount_minor) == (1200, 1325)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.pop("currency"), "currency"),
        (lambda p: p.update(total=29.35), "not a decimal money string"),
        (lambda p: p.update(id="seven"), "seven"),
        (lambda p: p.update(date_created_gmt=None, date_created=None), "missing date_created"),
    ],
)
def test_malformed_orders_raise_malformed_payload(mutate: Any, message: str) -> None:
    payload = fixture_json("order-created.json")
    mutate(payload)
    with pytest.raises(MalformedPayload, match=message):
        parse_order(payload)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("29.35", "USD", 2935),
        ("1000", "JPY", 1000),
        ("1.234", "KWD", 1234),
        ("0.9", "EUR", 90),
        ("1.005", "USD", 100),  # extra digits round half to even
        ("1.015", "USD", 102),
        ("-10.00", "USD", -1000),
        ("", "USD", 0),
    ],
)
def test_amounts_parse_exactly(amount: str, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize("amount", [1.5, "abc", "NaN", None, True])
def test_amounts_refuse_floats_and_garbage(amount: Any) -> None:
    with pytest.raises(ValueError, match="not a"):
        to_minor(amount, "USD")


def test_amounts_format_back_for_the_api() -> None:
    assert (to_decimal_string(1250, "USD"), to_decimal_string(500, "JPY")) == ("12.50", "500")
    assert percent_string(1250) == "12.50"
