"""Payouts through the admin API: batch, approve, mark paid, cancel, export."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import make_creator, make_entry


def test_batch_approve_pay_and_export(api: Api, shop_a: ShopKey, session: Session) -> None:
    # given
    anna = make_creator(session, shop_a.shop, "anna", payout_email="anna@pay.example")
    make_entry(session, shop_a.shop, anna, 4_250)
    # when
    batch = api.post("/api/v1/payouts/batches", shop_a, {"batch_key": "2026-11-a"})
    (payout,) = batch.get_json()["created"]
    approved = api.post(f"/api/v1/payouts/{payout['id']}/approve", shop_a)
    export = api.get("/api/v1/payouts/batches/2026-11-a/export.csv", shop_a)
    paid = api.post(
        f"/api/v1/payouts/{payout['id']}/mark-paid", shop_a, {"external_reference": "PP-77"}
    )
    # then
    assert batch.status_code == 201
    assert (payout["amount_minor"], payout["currency"], payout["status"]) == (
        4_250,
        "USD",
        "pending_approval",
    )
    assert approved.get_json()["status"] == "approved"
    assert export.headers["Content-Disposition"] == (
        'attachment; filename="tastemaker-payouts-2026-11-a.csv"'
    )
    assert export.get_data(as_text=True) == (
        "recipient_email,amount,currency,reference,note\r\n"
        f"anna@pay.example,42.50,USD,{payout['reference']},"
        "Tastemaker commissions for @anna (2026-11-a)\r\n"
    )
    assert (paid.get_json()["status"], paid.get_json()["external_reference"]) == ("paid", "PP-77")


def test_repeating_a_batch_key_creates_nothing(api: Api, shop_a: ShopKey, session: Session) -> None:
    make_entry(session, shop_a.shop, make_creator(session, shop_a.shop, "anna"), 1_000)
    first = api.post("/api/v1/payouts/batches", shop_a, {"batch_key": "k1"}).get_json()
    again = api.post("/api/v1/payouts/batches", shop_a, {"batch_key": "k1"}).get_json()
    assert (len(first["created"]), again) == (1, {"batch_key": "k1", "created": []})


def test_list_payouts_and_batches(api: Api, shop_a: ShopKey, session: Session) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    ben = make_creator(session, shop_a.shop, "ben")
    make_entry(session, shop_a.shop, anna, 1_000)
    make_entry(session, shop_a.shop, ben, 2_000)
    created = api.post("/api/v1/payouts/batches", shop_a, {"batch_key": "b1"}).get_json()
    api.post(f"/api/v1/payouts/{created['created'][0]['id']}/approve", shop_a)
    listed = api.get(f"/api/v1/payouts?status=pending_approval&creator_id={ben.id}", shop_a)
    batches = api.get("/api/v1/payouts/batches", shop_a).get_json()
    assert [row["amount_minor"] for row in listed.get_json()["data"]] == [2_000]
    assert batches == {
        "data": [
            {
                "batch_key": "b1",
                "currency": "USD",
                "payouts": 2,
                "total_minor": 3_000,
                "pending_approval": 1,
                "approved": 1,
                "paid": 0,
                "cancelled": 0,
                "created_at": batches["data"][0]["created_at"],
            }
        ]
    }


def test_paying_before_approval_is_a_conflict(api: Api, shop_a: ShopKey, session: Session) -> None:
    make_entry(session, shop_a.shop, make_creator(session, shop_a.shop, "anna"), 1_000)
    (payout,) = api.post("/api/v1/payouts/batches", shop_a).get_json()["created"]
    response = api.post(
        f"/api/v1/payouts/{payout['id']}/mark-paid", shop_a, {"external_reference": "X"}
    )
    assert response.status_code == 409
    assert response.get_json()["message"] == "approve the payout before marking it paid"


def test_mark_paid_needs_a_reference(api: Api, shop_a: ShopKey, session: Session) -> None:
    make_entry(session, shop_a.shop, make_creator(session, shop_a.shop, "anna"), 1_000)
    (payout,) = api.post("/api/v1/payouts/batches", shop_a).get_json()["created"]
    response = api.post(f"/api/v1/payouts/{payout['id']}/mark-paid", shop_a, {})
    assert response.get_json()["fields"] == {"external_reference": "is required"}


def test_cancel_returns_the_money_to_the_balance(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    make_entry(session, shop_a.shop, anna, 1_000)
    (payout,) = api.post("/api/v1/payouts/batches", shop_a).get_json()["created"]
    in_payout = api.get(f"/api/v1/creators/{anna.id}/balance", shop_a).get_json()
    cancelled = api.post(f"/api/v1/payouts/{payout['id']}/cancel", shop_a, {"note": "typo"})
    after = api.get(f"/api/v1/creators/{anna.id}/balance", shop_a).get_json()
    assert (in_payout["in_payout_minor"], in_payout["available_minor"]) == (1_000, 0)
    assert cancelled.get_json()["status"] == "cancelled"
    assert (after["in_payout_minor"], after["available_minor"]) == (0, 1_000)


def test_export_of_an_unknown_batch_is_404(api: Api, shop_a: ShopKey) -> None:
    assert api.get("/api/v1/payouts/batches/nope/export.csv", shop_a).status_code == 404


def test_bad_batch_key_is_a_field_error(api: Api, shop_a: ShopKey) -> None:
    response = api.post("/api/v1/payouts/batches", shop_a, {"batch_key": "no spaces"})
    assert response.get_json()["fields"] == {"batch_key": "must be 1-64 letters, digits, . _ -"}
