"""The creator's fair-pay statement: every entry explained, and the same numbers as the
merchant's view (the dashboard's balances and the merchant's copy of the statement)."""

from __future__ import annotations

import csv
import io
import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from plugin.models import Shop, utcnow
from plugin.services import payouts, statements
from plugin.services.creators import issue_portal_token
from plugin.services.ledger import add_adjustment
from plugin.services.orders import apply_order, apply_refund
from plugin.services.payouts import creator_balances
from plugin.tenancy import Tenant
from tests.admin.conftest import ShopKey
from tests.admin.factories import make_key
from tests.creator.conftest import sign_in
from tests.engine.factories import make_agreement, make_code, make_creator, make_shop, order, refund

TIER = {"min_orders": 1, "extra_rate_bps": 200}


def _history(session: Session) -> tuple[Shop, int, str, ShopKey]:
    shop = make_shop(session, name="Juniper Goods")
    creator = make_creator(session, shop, "alice", name="Alice", email="alice@example.com")
    agreement = make_agreement(
        session,
        shop,
        creator,
        rate_bps=1000,
        bonus_tiers=[{"min_orders": 1, "extra_rate_bps": 200}],
    )
    make_code(session, shop, creator, "ALICE10", agreement=agreement)
    # two paid orders with her code (the second reaches the bonus tier), a refund on the first
    apply_order(session, shop, order(platform_order_id=7001, discount_codes=("ALICE10",)))
    apply_order(
        session,
        shop,
        order(platform_order_id=7002, order_number="SB7002", discount_codes=("ALICE10",)),
    )
    apply_refund(session, shop, refund(91, 4_000, platform_order_id=7001))
    add_adjustment(session, shop.id, creator.id, 500, "travel to the photo shoot", "trip-1")
    session.flush()
    # a payout of everything available, approved and paid
    (payout,) = payouts.batch_payouts(session, shop.id, "b1")
    payouts.approve_payout(session, shop.id, payout.id)
    payouts.mark_paid(session, shop.id, payout.id, "PAYPAL-77")
    # then a new order, still inside the return window, and an adjustment not yet paid out
    now = utcnow()
    apply_order(
        session,
        shop,
        order(
            platform_order_id=7003,
            order_number="SB7003",
            discount_codes=("ALICE10",),
            created_at=now,
            updated_at=now,
        ),
    )
    add_adjustment(session, shop.id, creator.id, -200, "sample kept after the campaign", "s-1")
    token = issue_portal_token(Tenant(session, shop.id), creator)
    key = make_key(session, shop)
    session.commit()
    return shop, creator.id, token, ShopKey(shop, key)


def test_every_entry_is_explained_and_paid_entries_say_paid(session: Session) -> None:
    shop, creator_id, _token, _ = _history(session)
    creator = session.get(statements.Creator, creator_id)
    assert creator is not None
    statement = statements.build(session, shop, creator, utcnow())
    lines = [line for period in reversed(statement.periods) for line in period.lines]
    by_what = {line.what: line for line in lines}
    first = by_what["Order SB7001: 10% of USD 100.00 item revenue"]
    assert first.status == "paid"
    assert first.payout_reference == "PAYPAL-77"
    assert "Discount code ALICE10 was used at checkout" in first.why
    assert "base commission rate" in first.why
    bonus = by_what["Order SB7002: bonus of 2% of USD 100.00"]
    assert bonus.amount_minor == 200
    assert bonus.why == (
        "You passed 1 paid orders this month, so your agreement's bonus tier adds 2%."
    )
    reversal = next(line for line in lines if line.kind == "reversal")
    assert reversal.what == "Order SB7001: refund of USD 40.00 of items"
    assert reversal.amount_minor == -400
    assert by_what["Payout PAYPAL-77"].amount_minor == -(1000 + 1000 + 200 - 400 + 500)
    held = by_what["Order SB7003: 10% of USD 100.00 item revenue"]
    assert held.status == "held"
    assert held.release_at is not None
    assert by_what["Sample kept after the campaign"].status == "available"
    # the running balance ends at what is owed: the held order and the new adjustment
    assert lines[-1].balance_minor == statement.totals.owed_minor


def test_the_statement_matches_the_merchants_numbers_on_page_csv_and_print(
    client: FlaskClient, session: Session
) -> None:
    shop, creator_id, token, who = _history(session)
    now = utcnow()
    merchant = creator_balances(session, shop.id, creator_id=creator_id, now=now)[creator_id]
    creator = session.get(statements.Creator, creator_id)
    assert creator is not None
    totals = statements.build(session, shop, creator, now).totals
    # the same sums as the merchant's dashboard
    assert (
        totals.held_minor,
        totals.available_minor,
        totals.in_payout_minor,
        totals.paid_minor,
    ) == (
        merchant.held_minor,
        merchant.available_minor,
        merchant.in_payout_minor,
        merchant.paid_minor,
    )
    # (the December order is the first of its month: no bonus tier yet)
    assert (totals.held_minor, totals.available_minor, totals.paid_minor) == (1000, -200, 2300)
    # the creator page, its printable statement and the merchant's copy show the same figures
    page = client.get(f"/creator/{token}").get_data(as_text=True)
    printable = client.get(f"/creator/{token}/statement").get_data(as_text=True)
    sign_in(client, who)
    merchant_copy = client.get(f"/admin/creators/{creator_id}/statement")
    assert merchant_copy.status_code == 200
    for body in (page, printable, merchant_copy.get_data(as_text=True)):
        assert "USD 10.00" in body  # held
        assert "USD -2.00" in body  # available
        assert "PAYPAL-77" in body
    assert _amounts(printable) == _amounts(merchant_copy.get_data(as_text=True))
    # the CSV adds up to the same balance, line by line
    rows = list(csv.DictReader(io.StringIO(client.get(f"/creator/{token}/statement.csv").text)))
    assert sum(round(float(r["amount"]) * 100) for r in rows) == totals.owed_minor
    assert rows[-1]["balance"] == "8.00"
    assert {r["status"] for r in rows} == {"paid", "payout", "held", "available"}
    assert "in_payout" not in {r["status"] for r in rows}


def _amounts(body: str) -> list[str]:
    return re.findall(r"USD -?[\d,]+\.\d\d", body.split("<main", 1)[1])


def test_a_creator_chooses_store_credit_as_their_payout_method(
    client: FlaskClient, session: Session
) -> None:
    _shop, creator_id, token, _who = _history(session)
    page = client.get(f"/creator/{token}").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    wrong = client.post(
        f"/creator/{token}/payout-details",
        data={"csrf_token": found.group(1), "payout_email": "a@b.co", "payout_method": "gold"},
        follow_redirects=True,
    )
    assert "Payout method must be one of" in wrong.get_data(as_text=True)
    client.post(
        f"/creator/{token}/payout-details",
        data={
            "csrf_token": found.group(1),
            "payout_email": "alice@example.com",
            "payout_method": "store_credit",
        },
    )
    creator = session.get(statements.Creator, creator_id, populate_existing=True)
    assert creator is not None
    assert creator.payout_method == "store_credit"


def test_a_full_refund_after_a_partial_one_explains_the_whole_reversal_and_the_give_back(
    session: Session,
) -> None:
    # given an order refunded 40%, then the remaining 60%
    shop = make_shop(session, name="Juniper Goods")
    creator = make_creator(session, shop, "alice", name="Alice", email="alice@example.com")
    agreement = make_agreement(session, shop, creator, rate_bps=1000)
    make_code(session, shop, creator, "ALICE10", agreement=agreement)
    apply_order(session, shop, order(platform_order_id=7001, discount_codes=("ALICE10",)))
    apply_refund(session, shop, refund(91, 4_000, platform_order_id=7001))
    apply_refund(session, shop, refund(92, 6_000, platform_order_id=7001))
    session.flush()
    # when
    statement = statements.build(session, shop, creator, utcnow())
    lines = [line for period in statement.periods for line in period.lines]
    # then the order's lines say what each is, and they net to nothing
    assert sorted((line.what, line.amount_minor) for line in lines) == [
        ("Order SB7001: 10% of USD 100.00 item revenue", 1_000),
        ("Order SB7001: earlier refund reversal returned", 400),
        ("Order SB7001: earlier refund reversal returned", 600),
        ("Order SB7001: refund of USD 40.00 of items", -400),
        ("Order SB7001: refund of USD 60.00 of items", -600),
        ("Order SB7001: refunded in full", -1_000),
    ]
