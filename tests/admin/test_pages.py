"""The merchant dashboard and the creator page, through the test client."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from plugin.crypto import sha256_hex
from plugin.db import get_session
from plugin.models import ApiKey, Creator, OrderDay, Payout, utcnow
from plugin.services.payouts import batch_payouts
from plugin.services.rollup_base import zone_named
from tests.admin.conftest import ShopKey
from tests.admin.factories import (
    make_attribution,
    make_code,
    make_creator,
    make_entry,
    make_link,
    make_order,
)
from tests.admin.signin import csrf, sign_in_with_key


def sign_in(client: FlaskClient, who: ShopKey) -> str:
    return sign_in_with_key(client, who.key)


def test_without_a_session_the_dashboard_asks_for_a_key(client: FlaskClient) -> None:
    response = client.get("/admin")
    assert response.status_code == 200
    assert "Sign in to your shop" in response.get_data(as_text=True)
    # and no site may frame the standalone page
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")


def test_a_bad_key_is_refused(client: FlaskClient, shop_a: ShopKey) -> None:
    page = client.get("/admin").get_data(as_text=True)
    response = client.post(
        "/admin/sign-in", data={"csrf_token": csrf(page), "api_key": "tmk_wrong"}
    )
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "That API key is not valid or was revoked." in followed
    assert "Sign in to your shop" in followed


def test_the_dashboard_shows_creators_codes_links_orders_and_payouts(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    # given
    anna = make_creator(session, shop_a.shop, "anna", name="Anna Knits")
    make_code(session, shop_a.shop, anna, "ANNA10", status="active")
    make_code(session, shop_a.shop, anna, "KNIT", status="taken", alternatives=["KNIT1"])
    link = make_link(session, shop_a.shop, anna, target_path="/products/scarf")
    placed = utcnow() - timedelta(days=3)
    order = make_order(session, shop_a.shop, order_number="#1042", placed_at=placed, paid_at=placed)
    make_attribution(
        session,
        shop_a.shop,
        order,
        anna,
        evidence={
            "candidates": [{"source": "discount_code", "value": "ANNA10", "verdict": "chosen"}]
        },
    )
    make_entry(session, shop_a.shop, anna, 1_234, order=order)
    batch_payouts(session, shop_a.id, "b1")
    session.commit()
    # when
    html = sign_in(client, shop_a)
    # then
    assert "@anna" in html
    assert "Anna Knits" in html
    assert "<code>ANNA10</code>" in html
    assert "KNIT is taken; try KNIT1" in html
    assert f"/r/{link.slug}" in html
    assert "#1042" in html
    assert "Discount code ANNA10 was used at checkout" in html
    assert "USD 12.34" in html
    assert "Approve" in html


def test_the_dashboard_lists_the_top_creators_and_links_to_all_of_them(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    # given: 27 creators without sales, and "zz" with a sale today (in the daily rollup)
    for n in range(27):
        make_creator(session, shop_a.shop, f"a{n:02d}")
    seller = make_creator(session, shop_a.shop, "zz")
    today = utcnow().astimezone(zone_named(shop_a.shop.timezone)).date()
    session.add(
        OrderDay(
            shop_id=shop_a.id,
            day=today,
            creator_id=seller.id,
            campaign_id=0,
            orders=1,
            gross_revenue_minor=5_000,
        )
    )
    session.commit()
    # when
    html = sign_in(client, shop_a)
    # then: 25 rows, the seller first, then by handle; the full list is one click away
    handles = re.findall(r"<strong>@(\w+)</strong>", html)
    assert handles == ["zz", *(f"a{n:02d}" for n in range(24))]
    assert "Your top 25 of 28 creators by revenue over the period" in html
    assert '<a href="/admin/creators">All 28 creators</a>' in html


def test_approving_and_paying_from_the_dashboard(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    # given
    make_entry(session, shop_a.shop, make_creator(session, shop_a.shop, "anna"), 5_000)
    (payout,) = batch_payouts(session, shop_a.id, "b1")
    payout_id = payout.id
    session.commit()
    token = csrf(sign_in(client, shop_a))
    # when
    approved = client.post(f"/admin/payouts/{payout_id}/approve", data={"csrf_token": token})
    paid = client.post(
        f"/admin/payouts/{payout_id}/mark-paid",
        data={"csrf_token": token, "external_reference": "WISE-123"},
        follow_redirects=True,
    )
    # then
    assert approved.status_code == 302
    assert "Payout marked paid (WISE-123)." in paid.get_data(as_text=True)
    row = get_session().get(Payout, payout_id)
    assert row is not None
    assert (row.status, row.external_reference) == ("paid", "WISE-123")


def test_forms_without_the_csrf_token_are_refused(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    make_entry(session, shop_a.shop, make_creator(session, shop_a.shop, "anna"), 5_000)
    (payout,) = batch_payouts(session, shop_a.id, "b1")
    payout_id = payout.id
    session.commit()
    sign_in(client, shop_a)
    response = client.post(f"/admin/payouts/{payout_id}/approve", data={"csrf_token": "forged"})
    assert response.status_code == 400
    row = get_session().get(Payout, payout_id)
    assert row is not None
    assert row.status == "pending_approval"


def test_another_shops_payout_cannot_be_approved(
    client: FlaskClient, shop_a: ShopKey, shop_b: ShopKey, session: Session
) -> None:
    make_entry(session, shop_a.shop, make_creator(session, shop_a.shop, "anna"), 5_000)
    (payout,) = batch_payouts(session, shop_a.id, "b1")
    payout_id = payout.id
    session.commit()
    token = csrf(sign_in(client, shop_b))
    response = client.post(f"/admin/payouts/{payout_id}/approve", data={"csrf_token": token})
    assert response.status_code == 404


def test_revoking_the_key_ends_the_dashboard_session(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    sign_in(client, shop_a)
    key = get_session().query(ApiKey).filter_by(key_hash=sha256_hex(shop_a.key)).one()
    key.revoked_at = utcnow()
    get_session().commit()
    assert "Sign in to your shop" in client.get("/admin").get_data(as_text=True)


def test_the_dashboard_issues_a_portal_link_once(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    anna_id = anna.id
    session.commit()
    token = csrf(sign_in(client, shop_a))
    html = client.post(
        f"/admin/creators/{anna_id}/portal-link", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    match = re.search(r"https://tastemaker\.test/creator/([A-Za-z0-9_-]+)", html)
    assert match is not None
    creator = get_session().get(Creator, anna_id)
    assert creator is not None
    assert creator.portal_token_hash == sha256_hex(match.group(1))


def portal(session: Session, shop_a: ShopKey, **creator: object) -> tuple[str, Creator]:
    from plugin.services.creators import issue_portal_token
    from plugin.tenancy import Tenant

    anna = make_creator(session, shop_a.shop, "anna", **creator)
    token = issue_portal_token(Tenant(session, shop_a.id), anna)
    return token, anna


def test_the_creator_page_shows_earnings_orders_and_why(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    # given
    token, anna = portal(session, shop_a, name="Anna")
    make_code(session, shop_a.shop, anna, "ANNA10", status="active", value=1500)
    placed = utcnow() - timedelta(days=40)
    order = make_order(session, shop_a.shop, order_number="#2001", placed_at=placed, paid_at=placed)
    make_attribution(session, shop_a.shop, order, anna, method="click", evidence={})
    make_entry(session, shop_a.shop, anna, 2_000, order=order)
    make_entry(session, shop_a.shop, anna, 700, available_at=utcnow() + timedelta(days=9))
    session.commit()
    # when
    response = client.get(f"/creator/{token}")
    # then
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Hi Anna" in html
    assert "USD 20.00" in html
    assert "USD 7.00" in html
    assert "<code>ANNA10</code>" in html
    assert "15% off" in html
    assert "#2001" in html
    assert "The order carried the click id of a referral link visit" in html


def test_an_unknown_portal_token_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/creator/not-a-token")
    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)


def test_a_creator_sets_their_payout_email(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    token, anna = portal(session, shop_a)
    anna_id = anna.id
    session.commit()
    form = csrf(client.get(f"/creator/{token}").get_data(as_text=True))
    bad = client.post(
        f"/creator/{token}/payout-details",
        data={"csrf_token": form, "payout_email": "nope"},
        follow_redirects=True,
    )
    good = client.post(
        f"/creator/{token}/payout-details",
        data={"csrf_token": form, "payout_email": "anna@pay.example"},
    )
    assert "Payout email must be an email address." in bad.get_data(as_text=True)
    assert good.status_code == 302
    creator = get_session().get(Creator, anna_id)
    assert creator is not None
    assert creator.payout_email == "anna@pay.example"


def test_the_statement_downloads_with_a_running_balance(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    token, anna = portal(session, shop_a)
    make_entry(session, shop_a.shop, anna, 1_000)
    make_entry(session, shop_a.shop, anna, -250, kind="reversal")
    session.commit()
    body = client.get(f"/creator/{token}/statement.csv").get_data(as_text=True)
    assert body.split("\r\n")[0] == (
        "period,date,type,order,description,why,rate,base,amount,currency,status,releases_on,"
        "payout_reference,balance"
    )
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [[r[c] for c in ("type", "amount", "currency", "balance", "status")] for r in rows] == [
        ["commission", "10.00", "USD", "10.00", "available"],
        ["reversal", "-2.50", "USD", "7.50", "available"],
    ]
