"""Creators join by applying on the shop's public page or by accepting an emailed invitation."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.models import Creator, DiscountCode, ReferralLink
from plugin.models.joining import CreatorApplication, CreatorInvitation
from tests.admin.conftest import ShopKey
from tests.admin.factories import make_creator
from tests.creator.conftest import Inbox, csrf, parts, sign_in

RunJobs = Callable[[], int]
FORM = {
    "name": "Lena Park",
    "email": "lena@example.com",
    "instagram": "@lena.daily",
    "niche": "slow fashion",
    "audience_size": "4200",
    "pitch": "I style linen every week.",
    "consent": "yes",
}


def apply_url(who: ShopKey) -> str:
    return f"/apply/{who.shop.public_key}"


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_application_is_recorded_with_consent_and_the_same_answer_for_a_known_email(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    # given the public page
    page = client.get(apply_url(shop_a))
    assert page.status_code == 200
    assert "Program terms" in page.get_data(as_text=True)
    # when a creator applies, then applies again, and an existing creator's email applies
    make_creator(session, shop_a.shop, "known", email="known@example.com")
    session.commit()
    first = client.post(apply_url(shop_a), data=FORM)
    again = client.post(apply_url(shop_a), data=FORM)
    known = client.post(apply_url(shop_a), data={**FORM, "email": "known@example.com"})
    # then every answer is the same redirect, and only the first is recorded
    assert [r.status_code for r in (first, again, known)] == [303, 303, 303]
    assert {r.headers["Location"] for r in (first, again, known)} == {
        apply_url(shop_a) + "/received"
    }
    rows = session.scalars(select(CreatorApplication)).all()
    assert [(r.email, r.status, r.social_handles) for r in rows] == [
        ("lena@example.com", "pending", {"instagram": "lena.daily"})
    ]
    assert rows[0].terms_hash
    assert rows[0].consented_at is not None
    assert rows[0].audience_size == 4200


def test_missing_consent_handles_or_bad_email_are_explained_and_nothing_is_kept(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    response = client.post(
        apply_url(shop_a),
        data={**FORM, "consent": "", "instagram": "", "email": "not-an-email"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please read and accept the program terms." in body
    assert "Give at least one of your handles." in body
    assert 'id="email-error"' in body
    assert 'value="Lena Park"' in body  # what they typed is kept
    assert count(session, CreatorApplication) == 0


def test_honeypot_size_limit_and_rate_limit_keep_spam_out(
    client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    bot = client.post(apply_url(shop_a), data={**FORM, "website": "http://spam.example"})
    huge = client.post(apply_url(shop_a), data={**FORM, "pitch": "x" * 9000})
    assert bot.status_code == 200  # looks accepted to the bot
    assert huge.status_code == 413
    assert count(session, CreatorApplication) == 0
    answers = [
        client.post(apply_url(shop_a), data={**FORM, "email": f"c{n}@example.com"}).status_code
        for n in range(7)
    ]
    assert answers == [303] * 5 + [429] * 2
    assert count(session, CreatorApplication) == 5
    assert client.get("/apply/pk_nobody").status_code == 404


def test_approving_creates_the_creator_with_code_link_and_page_and_emails_them(
    app: Flask,
    client: FlaskClient,
    session: Session,
    shop_a: ShopKey,
    inbox: Inbox,
    run_jobs: RunJobs,
) -> None:
    # given an application
    client.post(apply_url(shop_a), data=FORM)
    application = session.scalars(select(CreatorApplication)).one()
    sign_in(client, shop_a)
    listing = client.get("/admin/applications").get_data(as_text=True)
    assert "Lena Park" in listing
    assert "lena@example.com" in listing
    # when the merchant approves it (twice: the second is refused)
    token = csrf(client, "/admin/applications")
    url = f"/admin/applications/{application.id}/approve"
    approved = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    twice = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    run_jobs()
    # then the creator exists with a code and a link, and a welcome email arrived
    assert "is a creator now" in approved.get_data(as_text=True)
    assert "already approved" in twice.get_data(as_text=True)
    creator = session.scalars(select(Creator)).one()
    assert (creator.handle, creator.email, creator.status) == (
        "lena.daily",
        "lena@example.com",
        "active",
    )
    code = session.scalars(select(DiscountCode)).one()
    assert code.code == "LENADAILY10"
    link = session.scalars(select(ReferralLink)).one()
    assert link.discount_code_id == code.id
    (welcome,) = inbox.to("lena@example.com")
    text, html = parts(welcome)
    assert welcome["Subject"] == "You're in: welcome to Alpha Outfitters's creator program"
    assert "LENADAILY10" in text
    assert f"/r/{link.slug}" in text
    portal = re.search(r"https://tastemaker\.test(/creator/\S+)", text)
    assert portal is not None
    assert 'href="https://tastemaker.test/creator/' in html
    # and the link in the email opens the creator's page
    client.post("/admin/sign-out", data={"csrf_token": csrf(client, "/admin")})
    page = client.get(portal.group(1))
    assert page.status_code == 200
    assert "LENADAILY10" in page.get_data(as_text=True)


def test_declining_asks_for_confirmation_and_sends_the_optional_message(
    app: Flask,
    client: FlaskClient,
    session: Session,
    shop_a: ShopKey,
    inbox: Inbox,
    run_jobs: RunJobs,
) -> None:
    client.post(apply_url(shop_a), data=FORM)
    application = session.scalars(select(CreatorApplication)).one()
    sign_in(client, shop_a)
    confirm = client.get(f"/admin/applications/{application.id}/decline")
    assert "Decline Lena Park" in confirm.get_data(as_text=True)
    token = csrf(client, f"/admin/applications/{application.id}/decline")
    client.post(
        f"/admin/applications/{application.id}/decline",
        data={"csrf_token": token, "message": "We are full for spring; apply again in June."},
    )
    run_jobs()
    application = session.scalars(select(CreatorApplication)).one()
    assert (application.status, application.is_open) == ("declined", None)
    (letter,) = inbox.to("lena@example.com")
    assert "apply again in June" in parts(letter)[0]
    assert count(session, Creator) == 0
    # a decided application no longer blocks a new one
    client.post("/admin/sign-out", data={"csrf_token": token})
    assert client.post(apply_url(shop_a), data=FORM).status_code == 303
    assert count(session, CreatorApplication) == 2


def test_an_invitation_email_opens_the_page_where_the_creator_accepts(
    app: Flask,
    client: FlaskClient,
    session: Session,
    shop_a: ShopKey,
    inbox: Inbox,
    run_jobs: RunJobs,
) -> None:
    # given the merchant invites a creator
    sign_in(client, shop_a)
    token = csrf(client, "/admin/invitations")
    sent = client.post(
        "/admin/invitations",
        data={
            "csrf_token": token,
            "email": "max@example.com",
            "name": "Max",
            "message": "Loved your trail videos!",
        },
        follow_redirects=True,
    )
    assert "Invitation sent to max@example.com." in sent.get_data(as_text=True)
    run_jobs()
    (invite,) = inbox.to("max@example.com")
    text, _html = parts(invite)
    assert "Loved your trail videos!" in text
    found = re.search(r"https://tastemaker\.test(/join/\S+)", text)
    assert found is not None
    join = found.group(1)
    # when the creator opens it and accepts (without consent first)
    client.post("/admin/sign-out", data={"csrf_token": token})
    page = client.get(join)
    assert "Alpha Outfitters invites you, Max" in page.get_data(as_text=True)
    form_token = csrf(client, join)
    refused = client.post(join, data={"csrf_token": form_token, "name": "Max"})
    assert refused.status_code == 302
    accepted = client.post(
        join,
        data={
            "csrf_token": form_token,
            "name": "Max Trail",
            "tiktok": "@maxtrail",
            "consent": "yes",
        },
    )
    # then they land on their own creator page, and the link cannot be used twice
    assert accepted.status_code == 303
    assert accepted.headers["Location"].startswith("/creator/")
    creator = session.scalars(select(Creator)).one()
    assert (creator.handle, creator.email, creator.name) == (
        "maxtrail",
        "max@example.com",
        "Max Trail",
    )
    invitation = session.scalars(select(CreatorInvitation)).one()
    assert (invitation.status, invitation.creator_id) == ("accepted", creator.id)
    assert "already accepted" in client.get(join).get_data(as_text=True)
    assert client.get("/join/not-a-token").status_code == 404


def test_review_pages_need_a_signed_in_merchant(client: FlaskClient, shop_a: ShopKey) -> None:
    assert "API key" in client.get("/admin/applications").get_data(as_text=True)
    assert client.post("/admin/applications/1/approve").status_code == 403
    assert client.post("/admin/invitations").status_code == 403
