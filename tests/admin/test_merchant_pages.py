"""The merchant workflow pages through the test client: every page renders, forms show inline
field errors, destructive actions ask first, and the actions change what they say."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.models import (
    Campaign,
    Creator,
    DiscountCode,
    Payout,
    ReferralLink,
    Shop,
    UgcPost,
    utcnow,
)
from plugin.services.payouts import approve_payout, batch_payouts, mark_paid
from tests.admin.conftest import ShopKey
from tests.admin.factories import make_code, make_creator, make_entry, make_link
from tests.admin.test_pages import csrf, sign_in

PAGES = (
    "/admin/performance",
    "/admin/creators",
    "/admin/creators/new",
    "/admin/creators/import",
    "/admin/codes",
    "/admin/codes/new",
    "/admin/links",
    "/admin/links/new",
    "/admin/campaigns",
    "/admin/campaigns/new",
    "/admin/content",
    "/admin/content/carousel",
    "/admin/try-and-tag",
    "/admin/sprints",
    "/admin/sprints/new",
    "/admin/payouts",
    "/admin/settings",
)


@pytest.fixture(autouse=True)
def committed_shop(session: Session, shop_a: ShopKey) -> None:
    """Pages roll back on a refused form: the shop and its key must already be committed."""
    session.commit()


def post(client: FlaskClient, path: str, data: dict[str, str], token: str) -> str:
    response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_asks_for_sign_in_then_renders_with_its_nav_item(
    client: FlaskClient, shop_a: ShopKey, path: str
) -> None:
    assert "Sign in to your shop" in client.get(path).get_data(as_text=True)
    sign_in(client, shop_a)
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert 'style="' not in html
    assert "<style" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for label in ("Creators", "Codes &amp; links", "Campaigns", "Content", "Payouts", "Settings"):
        assert f">{label}</a>" in html


def test_root_leads_to_the_admin_and_the_favicon_is_served(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin"
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"


def test_adding_a_creator_shows_inline_errors_then_saves(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    token = csrf(sign_in(client, shop_a))
    # when the handle is invalid and the email malformed
    response = client.post(
        "/admin/creators/new",
        data={"csrf_token": token, "handle": "-bad handle", "email": "nope", "name": "Mia"},
    )
    # then the form comes back with both fields marked and the typed values kept
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="e-handle"' in html
    assert "must start with a letter or digit" in html
    assert 'id="e-email"' in html
    assert "must be an email address" in html
    assert 'value="Mia"' in html
    # when valid
    html = post(
        client,
        "/admin/creators/new",
        {
            "handle": "glow.with.mia",
            "name": "Mia Chen",
            "instagram": "@glowwithmia",
            "audience_size": "42000",
        },
        token,
    )
    creator = session.scalars(select(Creator).where(Creator.handle == "glow.with.mia")).one()
    assert creator.social_handles == {"instagram": "@glowwithmia"}
    assert creator.audience_size == 42000
    assert "@glow.with.mia added" in html
    # and a duplicate handle is a field error, not a crash
    response = client.post(
        "/admin/creators/new", data={"csrf_token": token, "handle": "GLOW.with.mia"}
    )
    assert response.status_code == 200
    assert "Handle is already used by another creator" in response.get_data(as_text=True)


def test_creators_list_searches_filters_pages_and_hides_ugc_only_authors(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    for n in range(30):
        make_creator(session, shop_a.shop, f"maker{n:02d}", name=f"Maker {n}")
    author = make_creator(session, shop_a.shop, "just.posts")
    session.add(
        UgcPost(shop_id=shop_a.id, source="creator", creator_id=author.id, author_handle="x")
    )
    affiliate = make_creator(session, shop_a.shop, "posts.and.sells")
    session.add(
        UgcPost(shop_id=shop_a.id, source="creator", creator_id=affiliate.id, author_handle="y")
    )
    make_link(session, shop_a.shop, affiliate)
    session.commit()
    sign_in(client, shop_a)
    first = client.get("/admin/creators").get_data(as_text=True)
    assert "Page 1 of 2 · 31 in all" in first
    assert "@just.posts" not in first
    second = client.get("/admin/creators?page=2").get_data(as_text=True)
    assert "@posts.and.sells" in second
    found = client.get("/admin/creators?q=maker0").get_data(as_text=True)
    assert found.count("<strong>@maker0") == 10
    none = client.get("/admin/creators?status=paused").get_data(as_text=True)
    assert "No creator matches these filters" in none


def test_pausing_asks_first_then_deactivates_codes_and_links(
    client: FlaskClient, shop_a: ShopKey, session: Session, run_jobs: object
) -> None:
    creator = make_creator(session, shop_a.shop, "mia")
    make_code(session, shop_a.shop, creator, "MIA15", status="active", platform_id="sandbox-1")
    link = make_link(session, shop_a.shop, creator)
    session.commit()
    token = csrf(sign_in(client, shop_a))
    confirm = client.get(f"/admin/creators/{creator.id}/status?to=paused").get_data(as_text=True)
    assert "Pause @mia?" in confirm
    assert creator.status == "active"  # asking changed nothing
    html = post(client, f"/admin/creators/{creator.id}/status", {"status": "paused"}, token)
    assert "@mia is paused" in html
    assert "1 link turned off" in html
    session.expire_all()
    assert session.get(Creator, creator.id).status == "paused"  # type: ignore[union-attr]
    assert session.get(ReferralLink, link.id).active is False  # type: ignore[union-attr]


def test_earnings_link_is_shown_once_and_rotating_replaces_it(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "mia")
    session.commit()
    token = csrf(sign_in(client, shop_a))
    first = post(client, f"/admin/creators/{creator.id}/earnings-link", {}, token)
    url = re.search(r'value="(https://tastemaker.test/creator/[^"]+)"', first)
    assert url is not None
    assert client.get(url.group(1).removeprefix("https://tastemaker.test")).status_code == 200
    asked = client.get(f"/admin/creators/{creator.id}/earnings-link").get_data(as_text=True)
    assert "the old link stops working" in asked
    post(client, f"/admin/creators/{creator.id}/earnings-link", {}, token)
    assert client.get(url.group(1).removeprefix("https://tastemaker.test")).status_code == 404


def test_a_taken_code_offers_its_alternatives_and_retries_under_the_one_picked(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "mia")
    code = make_code(
        session, shop_a.shop, creator, "GLOW", status="taken", alternatives=["GLOW1", "GLOW2"]
    )
    session.commit()
    token = csrf(sign_in(client, shop_a))
    html = client.get("/admin/codes").get_data(as_text=True)
    assert "Use GLOW1" in html
    assert "Use GLOW2" in html
    html = post(client, f"/admin/codes/{code.id}/retry", {"code": "GLOW2"}, token)
    session.expire_all()
    row = session.get(DiscountCode, code.id)
    assert row is not None
    assert row.code == "GLOW2"
    assert row.status in ("pending", "active")


def test_new_code_form_turns_percent_into_basis_points_and_reports_bad_values(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "mia")
    session.commit()
    token = csrf(sign_in(client, shop_a))
    bad = client.post(
        "/admin/codes/new",
        data={
            "csrf_token": token,
            "creator_id": str(creator.id),
            "code": "x",
            "kind": "percentage",
            "value": "150",
        },
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200
    assert "Code must be 3-64 letters" in text
    assert "Discount must be a percentage between 0.01 and 100" in text
    post(
        client,
        "/admin/codes/new",
        {"creator_id": str(creator.id), "code": "MIA15", "kind": "percentage", "value": "15"},
        token,
    )
    code = session.scalars(select(DiscountCode).where(DiscountCode.code == "MIA15")).one()
    assert code.value == 1500


def test_links_page_shows_the_live_url_and_clicks_and_turning_off_asks_first(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "mia")
    token = csrf(sign_in(client, shop_a))
    html = post(
        client,
        "/admin/links/new",
        {"creator_id": str(creator.id), "target_path": "/products/vitamin-c-serum"},
        token,
    )
    link = session.scalars(select(ReferralLink)).one()
    assert f"https://tastemaker.test/r/{link.slug}" in html
    assert 'data-copy="url-' in html
    bad = client.post(
        "/admin/links/new",
        data={"csrf_token": token, "creator_id": str(creator.id), "target_path": "//evil.example"},
    )
    assert bad.status_code == 200
    assert "must be a path on the shop" in bad.get_data(as_text=True)
    assert "Turn off /r/" in client.get(f"/admin/links/{link.id}/deactivate").get_data(as_text=True)


def test_campaign_has_a_kpi_target_and_charts_it(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    token = csrf(sign_in(client, shop_a))
    bad = client.post(
        "/admin/campaigns/new",
        data={"csrf_token": token, "name": "", "format": "live_drop", "kpi_target": "lots"},
    )
    assert bad.status_code == 200
    assert "Name must not be empty" in bad.get_data(as_text=True)
    start = (utcnow() - timedelta(days=3)).date().isoformat()
    end = (utcnow() + timedelta(days=4)).date().isoformat()
    html = post(
        client,
        "/admin/campaigns/new",
        {
            "name": "Glow week",
            "format": "shoppable_story",
            "primary_kpi": "revenue",
            "kpi_target": "2500.00",
            "budget_minor": "300",
            "starts_at": start,
            "ends_at": end,
        },
        token,
    )
    campaign = session.scalars(select(Campaign)).one()
    assert campaign.kpi_target == 250_000
    assert campaign.budget_minor == 30_000
    assert "Revenue against the target" in html
    assert '<svg class="chart"' in html
    assert "<title id=" in html
    assert "Show the numbers" in html


def test_settings_validate_inline_and_save(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    token = csrf(sign_in(client, shop_a))
    bad = client.post(
        "/admin/settings",
        data={
            "csrf_token": token,
            "hold_days": "400",
            "attribution_window_days": "0",
            "payout_minimum_minor": "1.234",
            "storefront_origins": "http://insecure.example",
        },
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200
    assert "Hold period (days) must be between 0 and 365" in text
    assert "Attribution window (days) must be between 1 and 365" in text
    assert "USD amounts have at most 2 decimals" in text
    assert "must be https origins" in text
    post(
        client,
        "/admin/settings",
        {
            "hold_days": "14",
            "attribution_window_days": "7",
            "payout_minimum_minor": "25.00",
            "storefront_origins": "https://www.glow.example",
        },
        token,
    )
    shop = session.get(Shop, shop_a.id)
    assert shop is not None
    session.refresh(shop)
    assert (shop.hold_days, shop.attribution_window_days, shop.payout_minimum_minor) == (
        14,
        7,
        2500,
    )
    assert shop.settings["ugc"]["storefront_origins"] == ["https://www.glow.example"]


def test_footer_claims_a_hold_only_when_there_is_one(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    sign_in(client, shop_a)
    shop_a.shop.hold_days = 0
    session.commit()
    assert "held" not in client.get("/admin/settings").get_data(as_text=True).split("<footer>")[1]
    shop_a.shop.hold_days = 30
    session.commit()
    assert "held for 30 days" in client.get("/admin/settings").get_data(as_text=True)


def test_payouts_page_approves_marks_paid_and_exports_a_paid_batch(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    creator = make_creator(session, shop_a.shop, "mia", payout_email="mia@pay.example")
    make_entry(
        session, shop_a.shop, creator, 2_890, reason="order #1042: 1200 bps of 2890 item revenue"
    )
    (payout,) = batch_payouts(session, shop_a.id, "b1")
    session.commit()
    token = csrf(sign_in(client, shop_a))
    html = client.get("/admin/payouts").get_data(as_text=True)
    assert "12% of $28.90 item revenue" in html
    post(client, f"/admin/payouts/{payout.id}/approval", {}, token)
    missing = post(client, f"/admin/payouts/{payout.id}/payment", {"external_reference": ""}, token)
    assert "enter the payment&#39;s reference" in missing
    post(client, f"/admin/payouts/{payout.id}/payment", {"external_reference": "PP-77"}, token)
    session.expire_all()
    assert session.get(Payout, payout.id).status == "paid"  # type: ignore[union-attr]
    csv_text = client.get("/admin/payouts/batches/b1.csv").get_data(as_text=True)
    assert csv_text.splitlines()[1].startswith("mia@pay.example,28.90,USD,")


def test_a_paid_batch_exports_its_rows_not_just_the_header(
    session: Session, shop_a: ShopKey
) -> None:
    from plugin.services.payouts import batch_csv

    creator = make_creator(session, shop_a.shop, "mia")
    make_entry(session, shop_a.shop, creator, 1_000)
    (payout,) = batch_payouts(session, shop_a.id, "b1")
    approve_payout(session, shop_a.id, payout.id)
    mark_paid(session, shop_a.id, payout.id, "REF-1")
    assert len(batch_csv(session, shop_a.id, "b1").strip().splitlines()) == 2


def test_the_creator_statement_reads_like_a_person_and_says_paid_for_a_paid_payout(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    # given a commission whose payout was paid
    from plugin.services.creators import issue_portal_token
    from plugin.tenancy import Tenant

    creator = make_creator(session, shop_a.shop, "mia")
    make_entry(
        session, shop_a.shop, creator, 347, reason="order #1042: 1200 bps of 2890 item revenue"
    )
    (payout,) = batch_payouts(session, shop_a.id, "b1")
    approve_payout(session, shop_a.id, payout.id)
    mark_paid(session, shop_a.id, payout.id, "REF-1")
    token = issue_portal_token(Tenant(session, shop_a.id), creator)
    session.commit()
    # when
    page = client.get(f"/creator/{token}").get_data(as_text=True)
    lines = client.get(f"/creator/{token}/statement.csv").get_data(as_text=True).split("\r\n")
    # then
    statement = page.split('id="statement-title"')[1]
    assert "in payout" not in statement
    assert "paid" in statement
    header, row = lines[0].split(","), lines[1].split(",")
    assert row[header.index("status")] == "paid"
    assert row[header.index("payout_reference")] == "REF-1"


def test_try_and_tag_shows_its_reward_as_typed_and_saves_a_percentage(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    from plugin.models import TryAndTagProgram

    token = csrf(sign_in(client, shop_a))
    form = client.get("/admin/try-and-tag").get_data(as_text=True)
    assert 'name="discount_value" type="text" value="10"' in form  # the 10% default
    bad = post(
        client,
        "/admin/try-and-tag",
        {"discount_kind": "percentage", "discount_value": "ten", "code_prefix": "glow!"},
        token,
    )
    assert "Reward must be a percentage, like 10" in bad
    assert "Code prefix must be 1-12 capital letters or digits" in bad
    post(
        client,
        "/admin/try-and-tag",
        {
            "enabled": "on",
            "enabled__present": "1",
            "discount_kind": "percentage",
            "discount_value": "12.5",
            "code_valid_days": "30",
            "code_prefix": "GLOW",
            "terms": "Tag us.",
        },
        token,
    )
    program = session.scalars(select(TryAndTagProgram)).one()
    assert (program.enabled, program.discount_value, program.code_prefix) == (True, 1250, "GLOW")
    assert 'value="12.5"' in client.get("/admin/try-and-tag").get_data(as_text=True)


def test_a_sprint_is_set_up_with_an_inclusive_last_day_and_shows_its_leaderboard(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    from plugin.models import ReferralSprint

    token = csrf(sign_in(client, shop_a))
    first = (utcnow() - timedelta(days=2)).date()
    last = (utcnow() + timedelta(days=5)).date()
    html = post(
        client,
        "/admin/sprints/new",
        {
            "name": "Launch week",
            "starts_at": first.isoformat(),
            "ends_at": last.isoformat(),
            "credit_per_order_minor": "5.00",
            "cap_per_creator_minor": "",
        },
        token,
    )
    sprint = session.scalars(select(ReferralSprint)).one()
    assert sprint.credit_per_order_minor == 500
    assert sprint.cap_per_creator_minor is None
    ends = sprint.ends_at if sprint.ends_at.tzinfo else sprint.ends_at.replace(tzinfo=UTC)
    assert ends.date() == last + timedelta(days=1)  # exclusive end: the next midnight
    assert "Leaderboard" in html
    assert "No qualifying orders yet." in html


def test_a_post_is_reviewed_its_rights_recorded_then_revoked_after_asking(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    from plugin.models.ugc import UgcRightsGrant
    from tests.ugc.factories import make_post

    ugc_post, _ = make_post(session, shop_a.shop, handle="mia", approved=False, scopes=None)
    session.commit()
    token = csrf(sign_in(client, shop_a))
    queue = client.get("/admin/content").get_data(as_text=True)
    assert "@mia" in queue
    assert '<img src="https://cdn.shopify.com/' in queue
    # a reject without a reason is answered next to the post
    refused = post(client, f"/admin/content/{ugc_post.id}/moderate", {"action": "reject"}, token)
    assert "reason is required to reject a post" in refused
    post(client, f"/admin/content/{ugc_post.id}/moderate", {"action": "approve"}, token)
    post(
        client,
        f"/admin/content/{ugc_post.id}/rights/request",
        {"scope_on_site": "on", "request_text": "May we show it?", "duration_days": "90"},
        token,
    )
    grant = session.scalars(select(UgcRightsGrant)).one()
    bad = post(
        client,
        f"/admin/content/{ugc_post.id}/rights/{grant.id}/grant",
        {"evidence_url": "http://insecure.example/reply"},
        token,
    )
    assert "evidence url must be an https URL" in bad
    post(
        client,
        f"/admin/content/{ugc_post.id}/rights/{grant.id}/grant",
        {"reply_text": "Yes, go ahead!", "evidence_url": "https://www.instagram.com/p/abc/c/1/"},
        token,
    )
    carousel = client.get("/admin/content/carousel").get_data(as_text=True)
    assert "Nothing would show here yet" in carousel  # not featured and no product page picked
    shown = client.get("/admin/content/carousel?product=101").get_data(as_text=True)
    assert "<strong>@mia</strong>" in shown
    asked = client.get(f"/admin/content/{ugc_post.id}/rights/{grant.id}/revoke").get_data(
        as_text=True
    )
    assert "Revoke the rights to @mia&#39;s post?" in asked
    post(client, f"/admin/content/{ugc_post.id}/rights/{grant.id}/revoke", {}, token)
    session.expire_all()
    assert session.get(UgcRightsGrant, grant.id).status == "revoked"  # type: ignore[union-attr]
    assert "<strong>@mia</strong>" not in client.get(
        "/admin/content/carousel?product=101"
    ).get_data(as_text=True)
