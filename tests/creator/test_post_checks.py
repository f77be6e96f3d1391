"""Try & Tag checks the post itself (public oEmbed, fetched SSRF-safe from a job) and never
rewards a post that is gone or does not disclose the reward."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.crypto import hash_email
from plugin.db import get_session
from plugin.domain.post_check import interpret
from plugin.domain.validation import ValidationFailed
from plugin.models.email import OutboundEmail
from plugin.models.ugc import Reward, UgcAuditEvent, UgcPost
from plugin.services import ugc
from plugin.services.privacy import CustomerRef, redact_customer
from plugin.services.safe_fetch import FetchBlocked, check_url, fetch
from plugin.tenancy import Tenant
from tests.admin.conftest import ShopKey
from tests.creator.conftest import Inbox, OEmbedServer, parts
from tests.rewards.conftest import reload
from tests.rewards.factories import open_program, submit

RunJobs = Callable[[], int]
POST = "https://www.tiktok.com/@lena/video/7301"
SHOPPER = "shopper@example.com"


def approve(reward: Reward) -> None:
    session = get_session()
    post = session.get(UgcPost, reward.ugc_post_id)
    assert post is not None
    ugc.moderate(Tenant(session, post.shop_id), post, "approve")
    session.commit()


def checked_program(session: Session, who: ShopKey, **fields: object) -> None:
    open_program(session, who.shop, verify_posts=True, **fields)
    session.commit()


def test_a_live_disclosed_post_is_checked_again_on_approval_then_rewarded_by_email(
    app: Flask,
    session: Session,
    shop_a: ShopKey,
    oembed: OEmbedServer,
    inbox: Inbox,
    run_jobs: RunJobs,
) -> None:
    # given a live post whose caption discloses the reward
    checked_program(session, shop_a)
    oembed.live(POST, "#ad My new linen overshirt, week one")
    reward, token = submit(session, shop_a.shop, post_url=POST, email=SHOPPER)
    run_jobs()
    post = reload(reward).ugc_post_id
    checked = get_session().get(UgcPost, post)
    assert checked is not None
    assert (checked.post_check_status, checked.disclosure_ok) == ("live", True)
    assert checked.caption == "#ad My new linen overshirt, week one"
    # when the merchant approves it
    approve(reward)
    run_jobs()
    # then it was fetched again (at submission and at approval), rewarded, and emailed
    assert len(oembed.requests) == 2
    reward = reload(reward)
    assert reward.status == "issued"
    (letter,) = inbox.to(SHOPPER)
    text, html = parts(letter)
    assert str(reward.code) in text
    assert str(reward.code) in html
    assert f"/try-and-tag/{shop_a.shop.public_key}/rewards/{token}" in text
    # and the shopper's address is kept only as a hash now
    assert reward.email_encrypted is None
    sent = get_session().scalars(select(OutboundEmail)).one()
    assert (sent.status, sent.to_address, len(sent.to_hash)) == ("sent", "", 64)


def test_an_undisclosed_post_goes_back_to_the_shopper_and_is_never_rewarded_until_fixed(
    app: Flask,
    client: FlaskClient,
    session: Session,
    shop_a: ShopKey,
    oembed: OEmbedServer,
    inbox: Inbox,
    run_jobs: RunJobs,
) -> None:
    # given a post without a disclosure
    checked_program(session, shop_a)
    oembed.live(POST, "My new linen overshirt, week one")
    reward, token = submit(session, shop_a.shop, post_url=POST, email=SHOPPER)
    run_jobs()
    # then the shopper hears why, once, and the status page says so
    assert reload(reward).status == "needs_change"
    (letter,) = inbox.to(SHOPPER)
    assert "does not say that the post earns a reward" in parts(letter)[0]
    status_url = f"/try-and-tag/{shop_a.shop.public_key}/rewards/{token}"
    assert "cannot be rewarded yet" in client.get(status_url).get_data(as_text=True)
    # and sending the same post again says what state it is really in
    with pytest.raises(ValidationFailed) as again:
        submit(get_session(), shop_a.shop, post_url=POST, email="other@example.com")
    assert again.value.fields == {
        "post_url": "was already submitted and needs a change before it can be rewarded "
        "(see its status page)"
    }
    # when the merchant approves it anyway
    approve(reward)
    run_jobs()
    # then no code is created and no second email is sent for the same reason
    reward = reload(reward)
    assert (reward.status, reward.code, reward.issued_at) == ("needs_change", None, None)
    assert len(inbox.to(SHOPPER)) == 1
    # when the shopper fixes the caption and asks for a new check
    oembed.live(POST, "#ad My new linen overshirt, week one")
    assert client.post(status_url + "/recheck").status_code == 303
    run_jobs()
    # then it is rewarded
    reward = reload(reward)
    assert reward.status == "issued"
    assert any(reward.code and reward.code in parts(m)[0] for m in inbox.to(SHOPPER))
    trail = (
        get_session()
        .scalars(
            select(UgcAuditEvent.action).where(UgcAuditEvent.ugc_post_id == reward.ugc_post_id)
        )
        .all()
    )
    assert "needs_change" in trail
    assert trail.count("missing") >= 1


def test_a_post_deleted_before_approval_is_flagged_and_not_rewarded(
    app: Flask,
    session: Session,
    shop_a: ShopKey,
    oembed: OEmbedServer,
    run_jobs: RunJobs,
) -> None:
    checked_program(session, shop_a)
    oembed.live(POST, "#ad week one")
    reward, _token = submit(session, shop_a.shop, post_url=POST)
    run_jobs()
    # when the post disappears and then the merchant approves it
    oembed.gone(POST)
    approve(reward)
    run_jobs()
    # then
    reward = reload(reward)
    post = get_session().get(UgcPost, reward.ugc_post_id)
    assert post is not None
    assert (post.post_check_status, reward.status) == ("gone", "needs_change")
    assert "deleted or is not public" in (reward.error or "")
    actions = (
        get_session()
        .scalars(select(UgcAuditEvent.action).where(UgcAuditEvent.ugc_post_id == post.id))
        .all()
    )
    assert "post_gone" in actions


def test_only_the_shops_allowed_networks_are_accepted(
    app: Flask, session: Session, shop_a: ShopKey
) -> None:
    checked_program(session, shop_a, allowed_networks=["tiktok", "pinterest"])
    with pytest.raises(ValidationFailed) as refused:
        submit(session, shop_a.shop, post_url="https://www.instagram.com/p/Cx1/")
    assert refused.value.fields == {
        "post_url": "must be the https link to your post on TikTok or Pinterest"
    }
    reward, _ = submit(session, shop_a.shop, post_url="https://www.pinterest.com/pin/12345/")
    assert reward.status == "submitted"


def test_a_check_refuses_private_addresses_redirects_to_them_and_oversized_answers(
    oembed: OEmbedServer,
) -> None:
    for url in (
        "https://10.0.0.8/oembed",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "http://93.184.216.34/x",  # public, but not https
    ):
        with pytest.raises(FetchBlocked):
            check_url(url)
    with pytest.raises(FetchBlocked):
        check_url(oembed.endpoint)  # loopback only under the explicit test setting
    check_url(oembed.endpoint, allow_loopback=True)
    # a redirect to a private address is refused before it is followed
    oembed.redirect_to = "http://192.168.1.1/admin"
    with pytest.raises(FetchBlocked, match="non-public"):
        fetch(oembed.endpoint + "?url=x", allow_loopback=True)
    oembed.redirect_to = None
    oembed.posts[POST] = (200, {"title": "x" * 5000})
    with pytest.raises(FetchBlocked, match="limit"):
        fetch(oembed.endpoint + "?url=" + POST, allow_loopback=True, max_bytes=1000)


def test_erasing_a_shopper_forgets_the_address_kept_for_their_reward_email(
    app: Flask, session: Session, shop_a: ShopKey, oembed: OEmbedServer, inbox: Inbox
) -> None:
    # given a submission whose reward email is still owed (the address is kept, encrypted)
    checked_program(session, shop_a)
    reward, _token = submit(session, shop_a.shop, post_url=POST, email=SHOPPER)
    assert reload(reward).email_encrypted is not None
    # when the store asks us to erase the shopper
    redact_customer(get_session(), shop_a.id, CustomerRef(email_hash=hash_email(SHOPPER)))
    get_session().commit()
    # then
    assert reload(reward).email_encrypted is None


@pytest.mark.parametrize(
    ("status", "kind", "body", "expected"),
    [
        (200, "application/json", b'{"title": "#ad hi", "author_name": "a"}', "live"),
        (404, "text/plain", b"Not Found", "gone"),
        (401, "application/json", b"{}", "gone"),
        (503, "text/html", b"", "unreachable"),
        (200, "application/json", b"not json", "unreachable"),
        (
            200,
            "text/html; charset=utf-8",
            b'<html><meta property="og:description" content="#ad linen"></html>',
            "live",
        ),
        (200, "text/html", b"<html><title>Login</title></html>", "gone"),
    ],
)
def test_what_a_networks_answer_means(status: int, kind: str, body: bytes, expected: str) -> None:
    outcome = interpret(status, kind, body)
    assert outcome.status == expected
    if expected == "live":
        assert outcome.metadata is not None
        assert outcome.metadata.caption.startswith("#ad")
