"""The agreement API: new term fields, versions, deliverable review, upcoming fees (422/409)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from plugin.models import Agreement, Creator
from plugin.services import deliverables as work
from plugin.tenancy import Tenant
from tests.admin.factories import make_creator
from tests.contracts.conftest import Api, ShopKey
from tests.contracts.factories import accept_current

TERMS = {
    "commission_rate_bps": 1200,
    "flat_fee_minor": 15_000,
    "payment_schedule": "on_delivery",
    "usage_rights_days": 90,
    "usage_rights_territory": "US",
    "usage_rights_channels": ["instagram", "paid ads"],
    "live_on_acceptance": True,
    "deliverables": [{"kind": "reel", "due_at": "2026-12-20T17:00:00Z"}, {"kind": "story"}],
}


def _created(api: Api, shop: ShopKey, creator: Creator) -> dict:  # type: ignore[type-arg]
    response = api.post("/api/v1/agreements", shop, {"creator_id": creator.id, **TERMS})
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_an_agreement_carries_its_version_and_acceptance(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    body = _created(api, shop_a, anna)
    assert (body["terms_version"], body["accepted_version"], body["acceptance"]) == (
        1,
        None,
        "unsigned",
    )
    assert (body["usage_rights_channels"], body["live_on_acceptance"]) == (
        ["instagram", "paid ads"],
        True,
    )
    # when a term changes
    patched = api.patch(f"/api/v1/agreements/{body['id']}", shop_a, {"flat_fee_minor": 20_000})
    # then version 2, listed with what changed
    assert patched.get_json()["terms_version"] == 2
    versions = api.get(f"/api/v1/agreements/{body['id']}/versions", shop_a).get_json()["data"]
    assert [(v["number"], v["changed_fields"], v["acceptance"]) for v in versions] == [
        (2, ["flat_fee_minor"], None),
        (1, versions[1]["changed_fields"], None),
    ]


def test_new_fields_are_validated_with_field_messages(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    response = api.post(
        "/api/v1/agreements",
        shop_a,
        {"creator_id": anna.id, "usage_rights_channels": "instagram", "live_on_acceptance": 1},
    )
    assert response.status_code == 422
    assert response.get_json()["fields"] == {
        "usage_rights_channels": "must be a list",
        "live_on_acceptance": "must be true or false",
    }


def test_review_a_deliverable_through_the_api(api: Api, shop_a: ShopKey, session: Session) -> None:
    # given an accepted agreement with a submitted reel
    anna = make_creator(session, shop_a.shop, "anna")
    body = _created(api, shop_a, anna)
    agreement = session.get(Agreement, body["id"])
    assert agreement is not None
    accept_current(session, shop_a.shop, agreement, anna)
    reel, _story = work.for_agreement(Tenant(session, shop_a.id), agreement.id)
    session.commit()
    listed = api.get(f"/api/v1/deliverables?agreement_id={agreement.id}", shop_a).get_json()
    assert [(d["kind"], d["status"]) for d in listed["data"]] == [("story", "due"), ("reel", "due")]
    # reviewing work not handed in is a conflict
    early = api.post(f"/api/v1/deliverables/{reel.id}/approve", shop_a, {})
    assert early.status_code == 409
    work.submit(Tenant(session, shop_a.id), reel, anna, post_url="https://instagram.com/p/1")
    session.commit()
    # asking for changes needs a message
    missing = api.post(f"/api/v1/deliverables/{reel.id}/request-changes", shop_a, {})
    assert (missing.status_code, missing.get_json()["fields"]) == (422, {"message": "is required"})
    blank = api.post(f"/api/v1/deliverables/{reel.id}/request-changes", shop_a, {"message": "   "})
    assert (blank.status_code, blank.get_json()["fields"]) == (
        422,
        {"message": "must not be empty"},
    )
    # when approved
    done = api.post(f"/api/v1/deliverables/{reel.id}/approve", shop_a, {"message": "Great"})
    # then, with its audit trail
    assert done.status_code == 200
    result = done.get_json()
    assert result["status"] == "approved"
    assert [(e["category"], e["action"]) for e in result["history"]] == [
        ("review", "approved"),
        ("disclosure", "missing"),
        ("submission", "submitted"),
    ]
    # and the story's half of the fee is what is still upcoming
    upcoming = api.get("/api/v1/flat-fees/upcoming", shop_a).get_json()
    assert [(u["amount_minor"], u["condition"]) for u in upcoming["data"]] == [
        (7_500, "when 'story' is approved")
    ]
    assert upcoming["waiting_on_events"] is True


def test_another_shops_deliverable_is_not_found(
    api: Api, shop_a: ShopKey, shop_b: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    body = _created(api, shop_a, anna)
    (reel, _story) = work.for_agreement(Tenant(session, shop_a.id), body["id"])
    session.commit()
    assert api.get(f"/api/v1/deliverables/{reel.id}", shop_b).status_code == 404
    response = api.post(f"/api/v1/deliverables/{reel.id}/approve", shop_b, {})
    assert response.status_code == 404
