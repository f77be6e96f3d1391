"""Contract pages via the test client: merchant (edit, review), creator (accept, hand in)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.models import Agreement, AgreementAcceptance, Creator, Deliverable
from plugin.services import deliverables as work
from plugin.services.creators import issue_portal_token
from plugin.tenancy import Tenant
from tests.admin.factories import make_creator
from tests.admin.signin import sign_in_with_key
from tests.contracts.conftest import ShopKey
from tests.contracts.factories import accept_current, make_versioned_agreement


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def sign_in(client: FlaskClient, who: ShopKey) -> None:
    sign_in_with_key(client, who.key)


def field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match is not None, name
    return match.group(1)


def _terms_form(token: str, **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "commission_rate": "12.5",
        "flat_fee": "150.00",
        "payment_schedule": "on_signing",
        "status": "active",
        "usage_rights_days": "90",
        "usage_rights_territory": "US, CA",
        "exclusivity": "",
        "termination_terms": "",
        "live_on_acceptance": "yes",
        "deliverable-0-kind": "Instagram reel",
        "deliverable-0-quantity": "1",
        "deliverable-0-due_on": "2026-12-20",
        "deliverable-0-notes": "30 seconds",
        "deliverable-1-kind": "",
        "deliverable-1-quantity": "1",
        "deliverable-1-due_on": "",
        "deliverable-1-notes": "",
        "tier-0-min_orders": "10",
        "tier-0-extra_rate": "2",
    }
    form.update(overrides)
    return form


def test_the_merchant_creates_an_agreement_from_the_form(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    # given
    anna = make_creator(session, shop_a.shop, "anna")
    session.commit()
    sign_in(client, shop_a)
    page = client.get(f"/admin/creators/{anna.id}/agreement")
    assert page.status_code == 200
    assert "New agreement" in page.get_data(as_text=True)
    # when
    response = client.post(
        f"/admin/creators/{anna.id}/agreement",
        data={**_terms_form(csrf(page.get_data(as_text=True))), "channels": ["instagram", "email"]},
    )
    # then
    assert response.status_code == 302
    agreement = session.scalars(select(Agreement).where(Agreement.creator_id == anna.id)).one()
    assert (agreement.commission_rate_bps, agreement.flat_fee_minor) == (1250, 15_000)
    assert agreement.bonus_tiers == [{"min_orders": 10, "extra_rate_bps": 200}]
    assert agreement.usage_rights_channels == ["instagram", "email"]
    assert agreement.deliverables == [
        {
            "kind": "Instagram reel",
            "quantity": 1,
            "due_at": "2026-12-20T23:59:00+00:00",
            "notes": "30 seconds",
        }
    ]
    assert (agreement.live_on_acceptance, agreement.terms_version) == (True, 1)
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Agreement created" in shown
    assert "waiting for the creator" in shown
    assert "Version 1" in shown


def test_bad_terms_are_shown_beside_their_fields_and_nothing_is_saved(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    agreement = make_versioned_agreement(session, shop_a.shop, anna)
    session.commit()
    sign_in(client, shop_a)
    page = client.get(f"/admin/creators/{anna.id}/agreement").get_data(as_text=True)
    # when the rate is words, the fee has too many decimals, a quantity is zero
    response = client.post(
        f"/admin/creators/{anna.id}/agreement",
        data=_terms_form(
            csrf(page),
            agreement_id=str(agreement.id),
            commission_rate="twelve",
            flat_fee="1.234",
        ),
    )
    # then 422 with each message next to its field, and what was typed kept
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        '<span class="field-error" id="commission_rate-error">must be a percentage like 12.5'
        in html
    )
    assert 'id="flat_fee-error">must be an amount with at most 2 decimals' in html
    assert 'value="twelve"' in html
    session.expire_all()
    assert (agreement.commission_rate_bps, agreement.terms_version) == (1000, 1)
    # and a schema rule (quantity at least 1) lands on its row too
    response = client.post(
        f"/admin/creators/{anna.id}/agreement",
        data=_terms_form(
            csrf(page), agreement_id=str(agreement.id), **{"deliverable-0-quantity": "0"}
        ),
    )
    assert response.status_code == 422
    assert 'id="deliverable-0-quantity-error">must be between 1 and 1000' in response.get_data(
        as_text=True
    )


def test_editing_terms_makes_a_new_version(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    agreement = make_versioned_agreement(session, shop_a.shop, anna, flat_fee_minor=15_000)
    accept_current(session, shop_a.shop, agreement, anna)
    session.commit()
    sign_in(client, shop_a)
    page = client.get(f"/admin/creators/{anna.id}/agreement").get_data(as_text=True)
    response = client.post(
        f"/admin/creators/{anna.id}/agreement",
        data=_terms_form(csrf(page), agreement_id=str(agreement.id)),
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert (
        "Saved as version 2: the creator must accept it; until then version 1 stays in force."
        in html
    )
    assert "new version to accept" in html


def test_the_merchant_reviews_a_deliverable(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    # given a submitted reel without disclosure
    anna = make_creator(session, shop_a.shop, "anna")
    agreement = make_versioned_agreement(
        session, shop_a.shop, anna, deliverables=[{"kind": "reel"}]
    )
    accept_current(session, shop_a.shop, agreement, anna)
    (reel,) = work.for_agreement(Tenant(session, shop_a.id), agreement.id)
    work.submit(Tenant(session, shop_a.id), reel, anna, post_url="https://instagram.com/p/1")
    session.commit()
    sign_in(client, shop_a)
    overview = client.get("/admin/contracts").get_data(as_text=True)
    assert "Waiting for your review" in overview
    assert f"/admin/deliverables/{reel.id}" in overview
    page = client.get(f"/admin/deliverables/{reel.id}").get_data(as_text=True)
    assert "The caption has no ad disclosure." in page
    # when asking for changes without a message
    empty = client.post(
        f"/admin/deliverables/{reel.id}/review",
        data={"csrf_token": csrf(page), "decision": "request_changes", "message": ""},
    )
    assert empty.status_code == 422
    assert "tell the creator what to change" in empty.get_data(as_text=True)
    # when asking with a message
    sent = client.post(
        f"/admin/deliverables/{reel.id}/review",
        data={"csrf_token": csrf(page), "decision": "request_changes", "message": "Add #ad"},
        follow_redirects=True,
    )
    assert "Sent back to the creator" in sent.get_data(as_text=True)
    session.expire_all()
    assert (reel.status, reel.feedback) == ("changes_requested", "Add #ad")


def test_review_needs_the_csrf_token(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    agreement = make_versioned_agreement(session, shop_a.shop, anna, deliverables=[{"kind": "x"}])
    (row,) = work.for_agreement(Tenant(session, shop_a.id), agreement.id)
    session.commit()
    sign_in(client, shop_a)
    client.get("/admin/contracts")
    response = client.post(f"/admin/deliverables/{row.id}/review", data={"decision": "approve"})
    assert response.status_code == 400


def _portal(session: Session, shop: ShopKey, creator: Creator) -> str:
    token = issue_portal_token(Tenant(session, shop.id), creator)
    session.commit()
    return token


def test_the_creator_reads_and_accepts_the_agreement(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    # given
    anna = make_creator(session, shop_a.shop, "anna", name="Anna Berg")
    agreement = make_versioned_agreement(
        session,
        shop_a.shop,
        anna,
        flat_fee_minor=15_000,
        payment_schedule="on_signing",
        usage_rights_days=90,
        usage_rights_territory="EU",
        exclusivity="No other yarn brands",
    )
    token = _portal(session, shop_a, anna)
    page = client.get(f"/creator/{token}/contract")
    html = page.get_data(as_text=True)
    # then the terms are in plain words
    assert "10% of the item revenue" in html
    assert "USD 150.00, paid once, when you accept this agreement." in html
    assert "for 90 days after it is posted, in EU" in html
    assert "No other yarn brands" in html
    # when the box is not ticked
    form = {
        "csrf_token": csrf(html),
        "version": field(html, "version"),
        "document_hash": field(html, "document_hash"),
    }
    unticked = client.post(f"/creator/{token}/contract/{agreement.id}/accept", data=form)
    assert unticked.status_code == 422
    assert "Tick the box" in unticked.get_data(as_text=True)
    # when ticked
    done = client.post(
        f"/creator/{token}/contract/{agreement.id}/accept",
        data={**form, "agree": "yes"},
        headers={"User-Agent": "TestBrowser/1"},
    )
    assert done.status_code == 302
    acceptance = session.scalars(select(AgreementAcceptance)).one()
    assert (acceptance.version_number, acceptance.document_hash, acceptance.user_agent) == (
        1,
        form["document_hash"],
        "TestBrowser/1",
    )
    assert "Version 1 accepted by Anna Berg (@anna)" in client.get(
        f"/creator/{token}/contract"
    ).get_data(as_text=True)


def test_terms_changed_while_reading_are_not_accepted(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    agreement = make_versioned_agreement(session, shop_a.shop, anna)
    token = _portal(session, shop_a, anna)
    html = client.get(f"/creator/{token}/contract").get_data(as_text=True)
    form = {
        "csrf_token": csrf(html),
        "version": "1",
        "document_hash": "0" * 64,
        "agree": "yes",
    }
    response = client.post(f"/creator/{token}/contract/{agreement.id}/accept", data=form)
    assert response.status_code == 409
    assert "The terms changed since you opened them" in response.get_data(as_text=True)
    assert session.scalars(select(AgreementAcceptance)).first() is None


def test_the_creator_hands_in_a_deliverable(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    agreement = make_versioned_agreement(
        session, shop_a.shop, anna, deliverables=[{"kind": "Instagram reel"}]
    )
    accept_current(session, shop_a.shop, agreement, anna)
    (reel,) = work.for_agreement(Tenant(session, shop_a.id), agreement.id)
    token = _portal(session, shop_a, anna)
    html = client.get(f"/creator/{token}/deliverables").get_data(as_text=True)
    assert "Instagram reel" in html
    # when the link is not https
    bad = client.post(
        f"/creator/{token}/deliverables/{reel.id}",
        data={"csrf_token": csrf(html), "post_url": "ftp://x", "caption": "#ad", "notes": ""},
    )
    assert bad.status_code == 422
    assert "must be the https:// address of the published post" in bad.get_data(as_text=True)
    assert 'value="ftp://x"' in bad.get_data(as_text=True)
    # when it is
    good = client.post(
        f"/creator/{token}/deliverables/{reel.id}",
        data={
            "csrf_token": csrf(html),
            "post_url": "https://www.instagram.com/reel/abc/",
            "caption": "#ad my favourite scarf",
            "notes": "Posted at 9am",
        },
        follow_redirects=True,
    )
    assert "Handed in: the store will review it." in good.get_data(as_text=True)
    row = session.get(Deliverable, reel.id)
    assert row is not None
    assert (row.status, row.disclosure_ok, row.creator_notes) == (
        "submitted",
        True,
        "Posted at 9am",
    )


def test_a_creator_cannot_touch_another_creators_work(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    ben = make_creator(session, shop_a.shop, "ben")
    agreement = make_versioned_agreement(session, shop_a.shop, anna, deliverables=[{"kind": "x"}])
    (row,) = work.for_agreement(Tenant(session, shop_a.id), agreement.id)
    token = _portal(session, shop_a, ben)
    html = client.get(f"/creator/{token}").get_data(as_text=True)  # a page with a form
    response = client.post(
        f"/creator/{token}/deliverables/{row.id}",
        data={"csrf_token": csrf(html), "post_url": "https://instagram.com/p/1"},
    )
    assert response.status_code == 404
    accept = client.post(
        f"/creator/{token}/contract/{agreement.id}/accept", data={"csrf_token": csrf(html)}
    )
    assert accept.status_code == 404
    assert client.get("/creator/not-a-token/contract").status_code == 404


def test_terminating_asks_for_confirmation_first(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    anna = make_creator(session, shop_a.shop, "anna")
    agreement = make_versioned_agreement(session, shop_a.shop, anna)
    session.commit()
    sign_in(client, shop_a)
    page = client.get(f"/admin/creators/{anna.id}/agreement/{agreement.id}/terminate")
    html = page.get_data(as_text=True)
    assert "Terminate the agreement with @anna?" in html
    session.expire_all()
    assert agreement.status == "active"  # looking at the question changes nothing
    done = client.post(
        f"/admin/creators/{anna.id}/agreement/{agreement.id}/terminate",
        data={"csrf_token": csrf(html)},
        follow_redirects=True,
    )
    assert "Agreement terminated" in done.get_data(as_text=True)
    session.expire_all()
    assert (agreement.status, agreement.terms_version) == ("terminated", 1)


def test_the_creator_sees_which_code_waits_for_acceptance(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    from plugin.services import creators as creator_service

    anna = make_creator(session, shop_a.shop, "anna")
    make_versioned_agreement(session, shop_a.shop, anna, live_on_acceptance=True)
    creator_service.create_discount_code(
        Tenant(session, shop_a.id),
        {"creator_id": anna.id, "code": "ANNA15", "kind": "percentage", "value": 1500},
    )
    token = _portal(session, shop_a, anna)
    html = client.get(f"/creator/{token}/contract").get_data(as_text=True)
    assert "Your code <code>ANNA15</code> goes live when you accept." in html


def test_the_shop_default_for_going_live_is_set_on_the_contracts_page(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    sign_in(client, shop_a)
    html = client.get("/admin/contracts").get_data(as_text=True)
    done = client.post(
        "/admin/contracts/settings",
        data={"csrf_token": csrf(html), "live_on_acceptance": "yes"},
        follow_redirects=True,
    )
    assert "New codes and links now wait for the creator&#39;s acceptance." in done.get_data(
        as_text=True
    )
    session.expire_all()
    assert shop_a.shop.settings["contracts"] == {"live_on_acceptance": True}


def test_affiliates_without_terms_are_offered_a_new_agreement(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    from tests.admin.factories import make_code

    anna = make_creator(session, shop_a.shop, "anna")
    make_code(session, shop_a.shop, anna, "ANNA10", status="active")
    make_creator(session, shop_a.shop, "ugc.only")  # a UGC author: no code, no link
    session.commit()
    sign_in(client, shop_a)
    html = client.get("/admin/contracts").get_data(as_text=True)
    assert f'href="/admin/creators/{anna.id}/agreement">@anna: set terms</a>' in html
    assert "@ugc.only" not in html
