"""Campaigns and agreements through the admin API."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import make_campaign, make_creator


def test_create_and_update_a_campaign(api: Api, shop_a: ShopKey) -> None:
    # when
    created = api.post(
        "/api/v1/campaigns",
        shop_a,
        {
            "name": "Autumn knits",
            "format": "micro_tutorial",
            "budget_minor": 250_000,
            "starts_at": "2026-09-01T00:00:00Z",
            "ends_at": "2026-10-01T00:00:00Z",
        },
    )
    updated = api.patch(
        f"/api/v1/campaigns/{created.get_json()['id']}", shop_a, {"brief": "Show the cable stitch"}
    )
    # then
    assert created.status_code == 201
    body = updated.get_json()
    assert (body["name"], body["budget_minor"], body["currency"]) == (
        "Autumn knits",
        250_000,
        "USD",
    )
    assert body["brief"] == "Show the cable stitch"
    assert body["starts_at"] == "2026-09-01T00:00:00+00:00"


def test_campaign_must_end_after_it_starts(api: Api, shop_a: ShopKey) -> None:
    response = api.post(
        "/api/v1/campaigns",
        shop_a,
        {
            "name": "Backwards",
            "format": "live_drop",
            "starts_at": "2026-09-01T00:00:00Z",
            "ends_at": "2026-08-01T00:00:00Z",
        },
    )
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"ends_at": "must be after starts_at"}


def test_campaign_dates_need_a_timezone(api: Api, shop_a: ShopKey) -> None:
    response = api.post(
        "/api/v1/campaigns",
        shop_a,
        {"name": "Naive", "format": "live_drop", "starts_at": "2026-09-01T00:00:00"},
    )
    assert response.get_json()["fields"] == {"starts_at": "must include a timezone offset (e.g. Z)"}


def test_create_an_agreement_with_every_term(api: Api, shop_a: ShopKey, session: Session) -> None:
    # given
    creator = make_creator(session, shop_a.shop, "anna")
    campaign = make_campaign(session, shop_a.shop)
    terms = {
        "creator_id": creator.id,
        "campaign_id": campaign.id,
        "deliverables": [
            {"kind": "reel", "quantity": 2, "due_at": "2026-09-15T12:00:00Z"},
            {"kind": "story"},
        ],
        "usage_rights_days": 90,
        "usage_rights_territory": "EU",
        "exclusivity": "No other yarn brands for 30 days",
        "termination_terms": "Either side, 14 days notice",
        "payment_schedule": "on_delivery",
        "flat_fee_minor": 50_000,
        "commission_rate_bps": 1_250,
        "bonus_tiers": [{"min_orders": 10, "extra_rate_bps": 200}],
    }
    # when
    response = api.post("/api/v1/agreements", shop_a, terms)
    # then
    assert response.status_code == 201
    body = response.get_json()
    # stored in one shape: every deliverable has all four fields
    assert body["deliverables"] == [
        {"kind": "reel", "quantity": 2, "due_at": "2026-09-15T12:00:00+00:00", "notes": ""},
        {"kind": "story", "quantity": 1, "due_at": None, "notes": ""},
    ]
    assert (body["commission_rate_bps"], body["flat_fee_minor"], body["currency"]) == (
        1_250,
        50_000,
        "USD",
    )
    assert body["bonus_tiers"] == [{"min_orders": 10, "extra_rate_bps": 200}]


def test_agreement_terms_get_field_level_messages(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "anna")
    response = api.post(
        "/api/v1/agreements",
        shop_a,
        {
            "creator_id": creator.id,
            "commission_rate_bps": 12_000,
            "bonus_tiers": [{"min_orders": 5, "extra_rate_bps": 100}, {"min_orders": 0}],
            "payment_schedule": "whenever",
        },
    )
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "validation",
        "fields": {
            "commission_rate_bps": "must be between 0 and 10000",
            "bonus_tiers[1].min_orders": "must be between 1 and 1000000",
            "bonus_tiers[1].extra_rate_bps": "is required",
            "payment_schedule": "must be one of: on_signing, on_delivery, monthly, on_completion",
        },
    }


def test_one_agreement_per_creator_and_campaign(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "anna")
    campaign = make_campaign(session, shop_a.shop)
    terms = {"creator_id": creator.id, "campaign_id": campaign.id}
    assert api.post("/api/v1/agreements", shop_a, terms).status_code == 201
    again = api.post("/api/v1/agreements", shop_a, terms)
    assert again.status_code == 422
    assert again.get_json()["fields"] == {
        "campaign_id": "this creator already has an agreement for it"
    }


def test_update_agreement_and_filter_by_creator(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    ben = make_creator(session, shop_a.shop, "ben")
    created = api.post("/api/v1/agreements", shop_a, {"creator_id": anna.id}).get_json()
    api.post("/api/v1/agreements", shop_a, {"creator_id": ben.id})
    updated = api.patch(
        f"/api/v1/agreements/{created['id']}", shop_a, {"commission_rate_bps": 800}
    ).get_json()
    listed = api.get(f"/api/v1/agreements?creator_id={anna.id}", shop_a).get_json()
    assert updated["commission_rate_bps"] == 800
    assert [row["id"] for row in listed["data"]] == [created["id"]]


def test_agreement_creator_cannot_be_changed(api: Api, shop_a: ShopKey, session: Session) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    created = api.post("/api/v1/agreements", shop_a, {"creator_id": anna.id}).get_json()
    response = api.patch(f"/api/v1/agreements/{created['id']}", shop_a, {"creator_id": 99})
    assert response.get_json()["fields"] == {"creator_id": "is not a known field"}
