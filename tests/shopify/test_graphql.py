"""GraphQL through the real connector against the simulator: codes, webhooks, limits, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.base import (
    CreatedDiscountCode,
    CredentialsRevoked,
    DiscountCodeSpec,
    DiscountCodeTaken,
    RetryableConnectorError,
    TerminalConnectorError,
)
from connectors.shopify import ShopifyConnector
from connectors.shopify.simulator import ShopifySimulator
from tests.shopify.conftest import SHOP, FakeClock, context_for, fixture_json

STARTS = datetime(2026, 6, 1, tzinfo=UTC)


def spec(code: str = "AVA15", **overrides: object) -> DiscountCodeSpec:
    values: dict[str, object] = {
        "code": code,
        "title": f"Tastemaker @ava: {code}",
        "kind": "percentage",
        "value": 1500,
        "currency": "USD",
        "starts_at": STARTS,
        **overrides,
    }
    return DiscountCodeSpec(**values)  # type: ignore[arg-type]


def test_a_percentage_code_is_created(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # when
    created = connector.create_discount_code(
        context_for(simulator),
        spec(usage_limit=100, once_per_customer=True, combines_with={"shipping": True}),
    )
    # then
    node = simulator.shop(SHOP).codes["ava15"]
    assert created == CreatedDiscountCode(platform_id=node["id"], code="AVA15")
    assert node["input"] == {
        "title": "Tastemaker @ava: AVA15",
        "code": "AVA15",
        "startsAt": "2026-06-01T00:00:00+00:00",
        "endsAt": None,
        "context": {"all": "ALL"},
        "customerGets": {"value": {"percentage": 0.15}, "items": {"all": True}},
        "appliesOncePerCustomer": True,
        "usageLimit": 100,
        "combinesWith": {"shippingDiscounts": True},
    }
    assert [c.kind for c in simulator.calls if c.kind.startswith("graphql")] == [
        "graphql:codeDiscountNodeByCode",
        "graphql:discountCodeBasicCreate",
    ]


def test_a_fixed_amount_code_is_sent_in_shop_money(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    connector.create_discount_code(
        context_for(simulator),
        spec("AVA10", kind="fixed_amount", value=1000, ends_at=datetime(2026, 7, 1, tzinfo=UTC)),
    )
    node = simulator.shop(SHOP).codes["ava10"]
    assert node["input"]["customerGets"]["value"] == {
        "discountAmount": {"amount": "10.00", "appliesOnEachItem": False}
    }
    assert node["input"]["endsAt"] == "2026-07-01T00:00:00+00:00"


def test_a_fixed_amount_in_another_currency_is_refused_before_calling(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    with pytest.raises(TerminalConnectorError, match="EUR"):
        connector.create_discount_code(
            context_for(simulator), spec(kind="fixed_amount", value=500, currency="EUR")
        )
    assert [c for c in simulator.calls if c.kind.startswith("graphql")] == []


def test_a_taken_code_reports_free_alternatives(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # given the merchant already has AVA15 and AVA152 (case differs: lookups ignore case)
    context = context_for(simulator)
    connector.create_discount_code(context, spec("ava15", title="merchant's own"))
    connector.create_discount_code(context, spec("AVA152", title="merchant's other"))
    # when
    with pytest.raises(DiscountCodeTaken) as taken:
        connector.create_discount_code(context, spec("AVA15"))
    # then
    assert taken.value.code == "AVA15"
    assert taken.value.alternatives == ("AVA153", "AVA154", "AVA155")
    assert "discountCodeBasicCreate" not in [c.kind.split(":")[1] for c in simulator.calls[-4:]]


def test_a_code_taken_between_lookup_and_create_is_still_reported(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # given the lookup says free but the code appears before the mutation (a race)
    from connectors.shopify import operations

    context = context_for(simulator)
    original = operations.lookup_code
    raced: list[str] = []

    def racing_lookup(client, shop, token, code):  # type: ignore[no-untyped-def]
        result = original(client, shop, token, code)
        if code == "AVA15" and not raced:
            raced.append(code)
            simulator.shop(SHOP).codes["ava15"] = {
                "id": "gid://shopify/DiscountCodeNode/1",
                "code": "AVA15",
                "title": "x",
                "status": "ACTIVE",
                "input": {},
            }
        return result

    operations.lookup_code = racing_lookup
    try:
        with pytest.raises(DiscountCodeTaken) as taken:
            connector.create_discount_code(context, spec("AVA15"))
    finally:
        operations.lookup_code = original
    assert taken.value.alternatives == ("AVA152", "AVA153", "AVA154")


def test_rerunning_a_create_whose_result_was_lost_returns_the_same_code(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    context = context_for(simulator)
    first = connector.create_discount_code(context, spec())
    again = connector.create_discount_code(context, spec())
    assert again == first
    assert len(simulator.shop(SHOP).codes) == 1


def test_other_user_errors_are_terminal(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    with pytest.raises(TerminalConnectorError, match="title: title can't be blank"):
        connector.create_discount_code(context_for(simulator), spec(title=""))


def test_a_code_is_deactivated(connector: ShopifyConnector, simulator: ShopifySimulator) -> None:
    context = context_for(simulator)
    created = connector.create_discount_code(context, spec())
    connector.deactivate_discount_code(context, created.platform_id)
    assert simulator.shop(SHOP).codes["ava15"]["status"] == "EXPIRED"


def test_deactivating_an_unknown_code_is_terminal(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    with pytest.raises(TerminalConnectorError, match="Discount does not exist"):
        connector.deactivate_discount_code(
            context_for(simulator), "gid://shopify/DiscountCodeNode/404"
        )


def test_throttled_waits_for_the_bucket_then_succeeds(
    connector: ShopifyConnector, simulator: ShopifySimulator, clock: FakeClock
) -> None:
    # given the shop's bucket is empty (100 points/s restore)
    simulator.fail_next(SHOP, "throttled")
    # when
    connector.create_discount_code(context_for(simulator), spec())
    # then: the THROTTLED lookup (cost 1) waited the 0.01 s the throttle status said it needed,
    # its retry (estimated 2) another 0.01 s, and the mutation (estimated 10, 1 point left) 0.09 s
    assert clock.sleeps == [0.01, 0.01, 0.09]
    assert "ava15" in simulator.shop(SHOP).codes


def test_the_budget_waits_before_spending_what_the_bucket_lacks(
    connector: ShopifyConnector, simulator: ShopifySimulator, clock: FakeClock
) -> None:
    # given the bucket holds 6 points, so the lookup (cost 1) leaves 5
    context = context_for(simulator)
    simulator.state.set_available(SHOP, 6)
    connector.create_discount_code(context, spec("FIRST"))
    # then the mutation (estimated 10) waited for the bucket before being sent: never THROTTLED
    assert clock.sleeps == [0.05]
    assert [c.kind for c in simulator.calls if c.kind.startswith("graphql")] == [
        "graphql:codeDiscountNodeByCode",
        "graphql:discountCodeBasicCreate",
    ]


def test_persistent_throttling_becomes_retryable_for_the_job(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    connector.graphql.max_attempts = 2
    simulator.fail_next(SHOP, "throttled", times=2)
    with pytest.raises(RetryableConnectorError) as error:
        connector.deactivate_discount_code(context_for(simulator), "gid://x/1")
    assert error.value.retry_after == pytest.approx(0.1)


def test_http_429_honours_retry_after(
    connector: ShopifyConnector, simulator: ShopifySimulator, clock: FakeClock
) -> None:
    simulator.fail_next(SHOP, "http_429", retry_after=2.5)
    connector.create_discount_code(context_for(simulator), spec())
    assert clock.sleeps == [2.5]


def test_a_long_retry_after_goes_back_to_the_queue(
    connector: ShopifyConnector, simulator: ShopifySimulator, clock: FakeClock
) -> None:
    simulator.fail_next(SHOP, "http_429", retry_after=60)
    with pytest.raises(RetryableConnectorError) as error:
        connector.create_discount_code(context_for(simulator), spec())
    assert error.value.retry_after == 60
    assert clock.sleeps == []


def test_server_errors_are_retryable(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    simulator.fail_next(SHOP, "http_500")
    with pytest.raises(RetryableConnectorError, match="500"):
        connector.create_discount_code(context_for(simulator), spec())


def test_a_revoked_token_means_reconnect(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    context = context_for(simulator)
    simulator.revoke(SHOP)
    with pytest.raises(CredentialsRevoked):
        connector.create_discount_code(context, spec())


def test_top_level_errors_are_checked(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    with pytest.raises(TerminalConnectorError, match="doesn't exist"):
        connector.graphql.execute(
            SHOP, context_for(simulator).credentials["access_token"], "query { nope { id } }"
        )


def test_webhook_registration_creates_each_topic_once(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    context = context_for(simulator)
    topics = ["orders/create", "refunds/create", "app/uninstalled"]
    url = "https://tastemaker.test/webhooks/shopify"
    # when registration runs twice
    first = connector.register_webhooks(context, url, topics)
    second = connector.register_webhooks(context, url, topics)
    # then
    assert first == topics
    assert second == []
    assert sorted(hook["topic"] for hook in simulator.shop(SHOP).webhooks) == [
        "APP_UNINSTALLED",
        "ORDERS_CREATE",
        "REFUNDS_CREATE",
    ]


def test_compliance_topics_cannot_be_registered_through_the_api(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    with pytest.raises(TerminalConnectorError, match="CUSTOMERS_REDACT"):
        connector.register_webhooks(
            context_for(simulator), "https://tastemaker.test/w", ["customers/redact"]
        )


def test_app_data_metafields_are_set_on_the_installation(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    connector.publish_app_data(
        context_for(simulator), {"public_key": "pk_1", "api_url": "https://tastemaker.test"}
    )
    assert simulator.shop(SHOP).app_metafields == {
        "tastemaker.api_url": "https://tastemaker.test",
        "tastemaker.public_key": "pk_1",
    }


def test_reconciliation_pages_rebuild_the_webhook_payloads(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # given the two fixture orders in the store, one updated in 2008 and one in 2025
    simulator.seed_fixture_orders(SHOP)
    context = context_for(simulator)
    # when reading everything updated since 2025
    page = connector.orders_updated_since(context, datetime(2025, 1, 1, tzinfo=UTC))
    # then only the 2025 order comes back, and it parses exactly like its webhook body
    assert page.next_cursor is None
    assert [connector.parse_order(p) for p in page.payloads] == [
        connector.parse_order(fixture_json("orders-create-percentage-code-via-api.json"))
    ]


def test_reconciliation_follows_cursors(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # given seven orders (pages hold five)
    base = fixture_json("orders-create-with-discount-code.json")
    for n in range(7):
        simulator.add_order(SHOP, {**base, "id": 9_000_000_000_000_000 + n})
    context = context_for(simulator)
    since = datetime(2000, 1, 1, tzinfo=UTC)
    # when
    first = connector.orders_updated_since(context, since)
    second = connector.orders_updated_since(context, since, first.next_cursor)
    # then
    ids = [connector.parse_order(p).platform_order_id for p in first.payloads + second.payloads]
    assert ids == [9_000_000_000_000_000 + n for n in range(7)]
    assert (len(first.payloads), second.next_cursor) == (5, None)
