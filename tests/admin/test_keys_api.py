"""API keys and shop settings through the admin API."""

from __future__ import annotations

from tests.admin.conftest import Api, ShopKey


def test_a_new_key_is_shown_once_and_works(api: Api, shop_a: ShopKey) -> None:
    # when
    created = api.post("/api/v1/api-keys", shop_a, {"label": "zapier"})
    body = created.get_json()
    listed = api.get("/api/v1/api-keys", shop_a).get_json()
    # then
    assert created.status_code == 201
    assert body["key"].startswith("tmk_")
    assert body["prefix"] == body["key"][:8]
    assert all("key" not in row for row in listed["data"])
    assert [row["label"] for row in listed["data"]] == ["zapier", "test"]
    new_key = ShopKey(shop_a.shop, body["key"])
    assert api.get("/api/v1/shop", new_key).get_json()["id"] == shop_a.id


def test_a_revoked_key_stops_working(api: Api, shop_a: ShopKey) -> None:
    created = api.post("/api/v1/api-keys", shop_a, {"label": "old"}).get_json()
    revoked = api.delete(f"/api/v1/api-keys/{created['id']}", shop_a)
    assert revoked.status_code == 200
    assert revoked.get_json()["revoked_at"] is not None
    assert api.get("/api/v1/shop", ShopKey(shop_a.shop, created["key"])).status_code == 401


def test_shop_settings_can_be_read_and_changed(api: Api, shop_a: ShopKey) -> None:
    changed = api.patch(
        "/api/v1/shop", shop_a, {"payout_minimum_minor": 5_000, "hold_days": 14}
    ).get_json()
    assert (changed["payout_minimum_minor"], changed["hold_days"], changed["currency"]) == (
        5_000,
        14,
        "USD",
    )
    invalid = api.patch("/api/v1/shop", shop_a, {"attribution_window_days": 0})
    assert invalid.get_json()["fields"] == {"attribution_window_days": "must be between 1 and 365"}
