"""The connector against the simulated store: coupons, order listing, links, our webhooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors.base import (
    CreatedDiscountCode,
    CredentialsRevoked,
    DiscountCodeSpec,
    DiscountCodeTaken,
    ShopContext,
    StoreCreditSpec,
    TerminalConnectorError,
)
from connectors.woocommerce import WooCommerceConnector, subscriptions
from connectors.woocommerce.simulator import SimulatedStore, resources
from connectors.woocommerce.simulator.resources import CouponRefused
from tests.woocommerce.conftest import WEBHOOK_SECRET, WEBHOOK_URL, recording_transport

NOW = datetime.now(UTC)


def _spec(**changes: object) -> DiscountCodeSpec:
    values: dict[str, object] = {
        "code": "MAYA10",
        "title": "Maya's code",
        "kind": "percentage",
        "value": 1250,
        "currency": "USD",
        "starts_at": NOW,
    }
    values.update(changes)
    return DiscountCodeSpec(**values)  # type: ignore[arg-type]


def test_percentage_code_becomes_a_percent_coupon(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    # given
    spec = _spec(
        ends_at=datetime(2027, 1, 31, 23, 0, tzinfo=UTC), usage_limit=100, once_per_customer=True
    )
    # when
    created = connector.create_discount_code(context, spec)
    # then the store keeps the code lowercased, as WooCommerce does
    [coupon] = store.coupons.values()
    assert created == CreatedDiscountCode(platform_id=str(coupon["id"]), code="maya10")
    assert {k: coupon[k] for k in ("code", "discount_type", "amount", "individual_use")} == {
        "code": "maya10",
        "discount_type": "percent",
        "amount": "12.50",
        "individual_use": True,
    }
    assert (coupon["usage_limit"], coupon["usage_limit_per_user"]) == (100, 1)
    assert coupon["date_expires_gmt"] == "2027-01-31T23:00:00"
    assert coupon["description"] == "Maya's code"


def test_fixed_amount_code_becomes_a_fixed_cart_coupon_that_may_combine(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    connector.create_discount_code(
        context,
        _spec(code="SAM5", kind="fixed_amount", value=500, combines_with={"order_discounts": True}),
    )
    [coupon] = store.coupons.values()
    assert (coupon["discount_type"], coupon["amount"], coupon["individual_use"]) == (
        "fixed_cart",
        "5.00",
        False,
    )
    assert (coupon["usage_limit"], coupon["usage_limit_per_user"], coupon["date_expires_gmt"]) == (
        None,
        None,
        None,
    )


def test_fixed_amount_in_another_currency_is_refused(
    connector: WooCommerceConnector, context: ShopContext
) -> None:
    with pytest.raises(
        TerminalConnectorError, match="a EUR amount cannot be a coupon in a USD store"
    ):
        connector.create_discount_code(
            context, _spec(kind="fixed_amount", value=500, currency="EUR")
        )


def test_an_existing_code_is_reported_with_free_alternatives(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    # given the code and one of its obvious variants are taken already
    store.create_coupon("maya10")
    store.create_coupon("maya103")
    # when / then
    with pytest.raises(DiscountCodeTaken) as taken:
        connector.create_discount_code(context, _spec())
    assert (taken.value.code, taken.value.alternatives) == (
        "MAYA10",
        ("MAYA102", "MAYA104", "MAYA105"),
    )
    assert len(store.coupons) == 2


def test_deactivating_moves_the_expiry_into_the_past(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    # given
    created = connector.create_discount_code(context, _spec())
    # when
    connector.deactivate_discount_code(context, created.platform_id)
    # then the code stops applying from yesterday, its usage history kept
    coupon = store.coupons[int(created.platform_id)]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT00:00:00")
    assert coupon["date_expires_gmt"] == yesterday
    assert coupon["code"] == "maya10"
    # and a checkout refuses it, as the store's cart would
    with pytest.raises(CouponRefused, match="This coupon has expired"):
        store.place_order(coupon_code="MAYA10", notify=False)


def test_a_code_with_an_end_date_expires_in_a_store_in_another_timezone(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    # given a store whose site runs on New York time
    store.timezone = ZoneInfo("America/New_York")
    ends = datetime(2027, 1, 31, 23, 0, tzinfo=UTC)
    # when
    created = connector.create_discount_code(context, _spec(ends_at=ends))
    # then the store holds the same instant, shown in its own time
    coupon = store.get_resource("coupons", int(created.platform_id))
    assert (coupon["date_expires_gmt"], coupon["date_expires"]) == (
        "2027-01-31T23:00:00",
        "2027-01-31T18:00:00",
    )


def test_the_simulated_store_ignores_expiry_fields_a_real_store_ignores(
    store: SimulatedStore,
) -> None:
    # given a coupon written the ways a real WooCommerce 10.9 ignores or reads locally
    store.timezone = ZoneInfo("Europe/Berlin")
    coupon = store.create_resource(
        "coupons", {"code": "gmt-only", "date_expires_gmt": "2020-01-01T00:00:00"}
    )
    # then date_expires_gmt was not written
    assert coupon["date_expires"] is None
    # when a bare local time is written, it is read in the site's timezone
    store.update_resource("coupons", coupon["id"], {"date_expires": "2030-06-01T12:00:00"})
    assert store.coupons[coupon["id"]]["date_expires_gmt"] == "2030-06-01T10:00:00"
    # and null does not clear it
    store.update_resource("coupons", coupon["id"], {"date_expires": None})
    assert store.coupons[coupon["id"]]["date_expires_gmt"] == "2030-06-01T10:00:00"


def test_deactivating_a_coupon_whose_expiry_the_store_ignores_is_an_error(
    connector: WooCommerceConnector,
    context: ShopContext,
    store: SimulatedStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a store (or a plugin on it) that drops expiry writes
    created = connector.create_discount_code(context, _spec())
    monkeypatch.setattr(resources, "WRITABLE_COUPON_FIELDS", ())
    monkeypatch.setattr(resources, "_expiry_gmt", lambda value, tz: None)
    # when / then: not reported as done while the code still applies at checkout
    with pytest.raises(TerminalConnectorError, match="it still applies"):
        connector.deactivate_discount_code(context, created.platform_id)
    assert store.place_order(coupon_code="MAYA10", notify=False)["coupon_lines"]


def test_deactivating_a_coupon_the_merchant_deleted_is_done(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    connector.deactivate_discount_code(context, "424242")
    assert store.requests[-1][:2] == ("PUT", "coupons/424242")


def test_orders_updated_since_pages_through_modified_orders(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    # given one old order and 120 changed since the last sync
    store.add_order({"id": 1, "status": "completed", "date_modified_gmt": "2020-01-01T00:00:00"})
    with store.webhooks_down():
        placed = [store.place_order() for _ in range(120)]
    since = datetime.now(UTC) - timedelta(minutes=5)
    # when the pages are walked
    seen: list[int] = []
    cursors: list[str | None] = []
    cursor: str | None = None
    while True:
        page = connector.orders_updated_since(context, since, cursor)
        seen.extend(int(payload["id"]) for payload in page.payloads)
        cursor = page.next_cursor
        cursors.append(cursor)
        if cursor is None:
            break
    # then every changed order came once, in id order, 50 per page
    assert seen == [order["id"] for order in placed]
    assert cursors == ["2", "3", None]


def test_orders_updated_since_with_nothing_new(
    connector: WooCommerceConnector, context: ShopContext
) -> None:
    page = connector.orders_updated_since(context, datetime.now(UTC))
    assert (page.payloads, page.next_cursor) == ((), None)


def test_the_switch_to_query_auth_is_saved_with_the_credentials(
    connector: WooCommerceConnector,
    context: ShopContext,
    store: SimulatedStore,
    saved_credentials: list[dict[str, object]],
) -> None:
    # given a host that strips the Authorization header
    store.strip_authorization = True
    # when
    connector.orders_updated_since(context, datetime.now(UTC))
    # then the shop's credentials now say so
    assert saved_credentials == [{**context.credentials, "query_string_auth": True}]


def test_a_revoked_key_raises_credentials_revoked(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    store.revoke_key(context.credentials["consumer_key"])
    with pytest.raises(CredentialsRevoked):
        connector.create_discount_code(context, _spec())


@pytest.mark.parametrize(
    ("path", "code", "url"),
    [
        ("/product/linen-shirt/", None, "https://shop.example.com/product/linen-shirt/"),
        (
            "product/linen-shirt/",
            "MAYA10",
            "https://shop.example.com/product/linen-shirt/?coupon=MAYA10",
        ),
        ("/?s=linen", "MAYA 10&x", "https://shop.example.com/?s=linen&coupon=MAYA+10%26x"),
    ],
)
def test_link_target_url_lands_on_the_store_with_the_coupon(
    connector: WooCommerceConnector, path: str, code: str | None, url: str
) -> None:
    assert connector.link_target_url("shop.example.com", path, code) == url


def test_verify_keys_reads_the_store_currency(
    connector: WooCommerceConnector, store: SimulatedStore, store_domain: str
) -> None:
    store.currency = "EUR"
    key = store.add_key()
    info = subscriptions.verify_keys(connector, store_domain, key.consumer_key, key.consumer_secret)
    assert (info.currency, info.home_url, info.query_string_auth) == ("EUR", store.url, False)


def test_register_creates_one_active_webhook_per_topic_with_our_secret(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    # when
    ids = subscriptions.register_webhooks(connector, context, WEBHOOK_URL)
    # then
    assert sorted(ids) == sorted(
        ["order.created", "order.updated", "order.deleted", "coupon.updated", "coupon.deleted"]
    )
    hooks = [store.webhooks[hook_id] for hook_id in ids.values()]
    assert {(h["topic"], h["status"], h["delivery_url"], h["secret"]) for h in hooks} == {
        (topic, "active", WEBHOOK_URL, WEBHOOK_SECRET) for topic in ids
    }
    # and WooCommerce pinged each one on creation
    assert sorted(ping.body for ping in store.pings) == sorted(
        f"webhook_id={i}".encode() for i in ids.values()
    )


def test_registering_again_updates_instead_of_duplicating(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    # given webhooks registered before, and a merchant's own webhook elsewhere
    first = subscriptions.register_webhooks(connector, context, WEBHOOK_URL)
    store.webhooks[first["order.updated"]]["status"] = "disabled"
    store.create_resource(
        "webhooks", {"topic": "order.created", "delivery_url": "https://erp.example.com/hook"}
    )
    reconnected = ShopContext(
        **{**context.__dict__, "credentials": {**context.credentials, "webhook_secret": "new"}}
    )
    # when the shop reconnects with a new secret
    second = subscriptions.register_webhooks(connector, reconnected, WEBHOOK_URL)
    # then the same webhooks are active again with the new secret, the merchant's untouched
    assert second == first
    assert len(store.webhooks) == 6
    assert {store.webhooks[i]["secret"] for i in second.values()} == {"new"}
    assert {store.webhooks[i]["status"] for i in second.values()} == {"active"}


def test_check_reactivates_a_webhook_woocommerce_disabled(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    # given our order.created webhook failed 7 deliveries in a row, which disables it
    ids = subscriptions.register_webhooks(connector, context, WEBHOOK_URL)
    failing, _ = recording_transport(status=500)
    store.transport = failing
    with store.webhooks_down():
        order = store.place_order()
    outcomes = [store.deliver("order.created", order)[0].status for _ in range(7)]
    assert (outcomes, store.webhooks[ids["order.created"]]["status"]) == ([500] * 7, "disabled")
    assert store.deliver("order.created", order) == []
    # when
    result = subscriptions.check_webhooks(connector, context, WEBHOOK_URL, ids)
    # then it was re-created (PUT {status: active} would keep the failure count at 6)
    assert (result.reactivated, result.recreated) == (("order.created",), ())
    new_id = result.ids["order.created"]
    assert new_id != ids["order.created"]
    assert ids["order.created"] not in store.webhooks
    assert {k: v for k, v in result.ids.items() if k != "order.created"} == {
        k: v for k, v in ids.items() if k != "order.created"
    }
    assert result.changed is True
    # and it has a full allowance again: one more failed delivery does not disable it
    assert store.deliver("order.created", order)[0].status == 500
    assert store.webhooks[new_id]["status"] == "active"


def test_the_simulated_store_keeps_the_failure_count_through_a_put(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    # given a webhook WooCommerce disabled after 7 failures
    ids = subscriptions.register_webhooks(connector, context, WEBHOOK_URL)
    store.transport, _ = recording_transport(status=500)
    with store.webhooks_down():
        order = store.place_order()
    for _ in range(7):
        store.deliver("order.created", order)
    # when it is only PUT back to active, as the REST API allows
    connector.client(context).put(f"webhooks/{ids['order.created']}", {"status": "active"})
    # then the next single failure disables it again, as on a real store
    store.deliver("order.created", order)
    assert store.webhooks[ids["order.created"]]["status"] == "disabled"


def test_check_recreates_a_deleted_webhook_and_leaves_healthy_ones(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    ids = subscriptions.register_webhooks(connector, context, WEBHOOK_URL)
    del store.webhooks[ids["coupon.deleted"]]
    result = subscriptions.check_webhooks(connector, context, WEBHOOK_URL, ids)
    assert (result.reactivated, result.recreated) == ((), ("coupon.deleted",))
    assert result.ids["coupon.deleted"] != ids["coupon.deleted"]
    assert store.webhooks[result.ids["coupon.deleted"]]["topic"] == "coupon.deleted"
    assert {k: v for k, v in result.ids.items() if k != "coupon.deleted"} == {
        k: v for k, v in ids.items() if k != "coupon.deleted"
    }


def test_check_of_healthy_webhooks_changes_nothing(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    ids = subscriptions.register_webhooks(connector, context, WEBHOOK_URL)
    result = subscriptions.check_webhooks(connector, context, WEBHOOK_URL, ids)
    assert (result.ids, result.changed, result.problems) == (ids, False, {})
    assert [method for method, _, _ in store.requests[-5:]] == ["GET"] * 5


def test_delete_removes_our_webhooks_and_tolerates_missing_ones(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    ids = subscriptions.register_webhooks(connector, context, WEBHOOK_URL)
    del store.webhooks[ids["order.deleted"]]
    subscriptions.delete_webhooks(connector, context, ids)
    assert store.webhooks == {}


def test_store_credit_is_a_single_use_coupon_only_the_customers_email_can_use(
    connector: WooCommerceConnector, context: ShopContext, store: SimulatedStore
) -> None:
    # given
    spec = StoreCreditSpec("Shopper@Example.com", 750, "USD", "reward:42")
    # when the credit is issued, and again after a lost answer
    first = connector.issue_store_credit(context, spec)
    again = connector.issue_store_credit(context, spec)
    # then one coupon exists, fixed, single use, restricted to the shopper's email
    [coupon] = store.coupons.values()
    assert first == again
    assert (first.platform_id, first.code) == (str(coupon["id"]), "tm-reward-42")
    assert {
        k: coupon[k] for k in ("discount_type", "amount", "usage_limit", "usage_limit_per_user")
    } == {
        "discount_type": "fixed_cart",
        "amount": "7.50",
        "usage_limit": 1,
        "usage_limit_per_user": 1,
    }
    assert coupon["email_restrictions"] == ["Shopper@Example.com"]
