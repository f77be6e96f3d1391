"""Attributions, the ledger and manual adjustments through the admin API."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import make_attribution, make_creator, make_entry, make_order


def test_attributions_show_method_evidence_order_and_commission(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    # given
    anna = make_creator(session, shop_a.shop, "anna")
    order = make_order(session, shop_a.shop, order_number="#1042", total_minor=5_400)
    evidence = {"summary": "attributed to creator by discount_code 'ANNA10'", "candidates": []}
    attribution = make_attribution(session, shop_a.shop, order, anna, evidence=evidence)
    make_entry(session, shop_a.shop, anna, 500, order=order)
    make_entry(session, shop_a.shop, anna, -120, order=order, kind="reversal")
    unattributed = make_attribution(session, shop_a.shop, make_order(session, shop_a.shop), None)
    # when
    listed = api.get("/api/v1/attributions", shop_a).get_json()
    one = api.get(f"/api/v1/attributions/{attribution.id}", shop_a).get_json()
    filtered = api.get("/api/v1/attributions?method=none", shop_a).get_json()
    # then
    assert [row["id"] for row in listed["data"]] == [unattributed.id, attribution.id]
    assert one["method"] == "code"
    assert one["evidence"] == evidence
    assert (one["commission_minor"], one["currency"]) == (380, "USD")
    assert (one["order"]["order_number"], one["order"]["total_minor"]) == ("#1042", 5_400)
    assert [row["id"] for row in filtered["data"]] == [unattributed.id]


def test_ledger_lists_entries_filtered_by_creator_and_kind(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    ben = make_creator(session, shop_a.shop, "ben")
    mine = make_entry(session, shop_a.shop, anna, 700)
    make_entry(session, shop_a.shop, anna, -100, kind="reversal")
    make_entry(session, shop_a.shop, ben, 300)
    body = api.get(f"/api/v1/ledger?creator_id={anna.id}&kind=commission", shop_a).get_json()
    assert [(row["id"], row["amount_minor"], row["currency"]) for row in body["data"]] == [
        (mine.id, 700, "USD")
    ]


def test_a_manual_adjustment_needs_a_reason_and_posts_once_per_key(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    # given
    anna = make_creator(session, shop_a.shop, "anna")
    body = {
        "creator_id": anna.id,
        "amount_minor": -2_500,
        "reason": "Returned sample kit",
        "idempotency_key": "kit-42",
    }
    # when
    first = api.post("/api/v1/ledger/adjustments", shop_a, body)
    replay = api.post("/api/v1/ledger/adjustments", shop_a, body)
    reused = api.post("/api/v1/ledger/adjustments", shop_a, {**body, "amount_minor": 100})
    missing = api.post(
        "/api/v1/ledger/adjustments", shop_a, {"creator_id": anna.id, "amount_minor": 0}
    )
    # then
    assert first.status_code == 201
    entry = first.get_json()
    assert (entry["kind"], entry["amount_minor"], entry["reason"]) == (
        "adjustment",
        -2_500,
        "Returned sample kit",
    )
    assert replay.get_json()["id"] == entry["id"]
    assert reused.get_json()["fields"] == {"idempotency_key": "was already used for another entry"}
    assert missing.get_json()["fields"] == {"reason": "is required"}
    ledger = api.get(f"/api/v1/ledger?creator_id={anna.id}", shop_a).get_json()
    assert len(ledger["data"]) == 1


def test_a_zero_adjustment_is_refused(api: Api, shop_a: ShopKey, session: Session) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    response = api.post(
        "/api/v1/ledger/adjustments",
        shop_a,
        {"creator_id": anna.id, "amount_minor": 0, "reason": "nothing"},
    )
    assert response.get_json()["fields"] == {"amount_minor": "must not be zero"}
