"""GET /r/<slug>: exact destination, tracking parameters, what is (not) counted, failures."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from plugin.models import Click, ReferralLink
from plugin.services.links import create_link, set_link_active
from plugin.services.shops import mark_uninstalled
from plugin.web.links import tracking
from tests.links.conftest import BROWSER, Outage, Store, click_count, make_store
from workers.jobs.clicks import flush_clicks

SANDBOX_LOCATION = re.compile(
    r"https://tastemaker\.test/sandbox/mugs\.example/products/mug"
    r"\?utm_source=tastemaker&utm_medium=creator&utm_campaign=(?P<campaign>[^&]+)"
    r"&utm_content=ava&tm_click=(?P<click>[0-9a-f]{32})&discount=AVA10"
)


def test_a_link_redirects_to_the_shop_with_tracking_parameters_and_the_code(
    follow: Callable[..., Any], link: ReferralLink, store: Store
) -> None:
    # when
    response = follow(link.slug)
    # then
    assert response.status_code == 302
    match = SANDBOX_LOCATION.fullmatch(response.headers["Location"])
    assert match is not None, response.headers["Location"]
    assert match["campaign"] == f"{store.campaign.id}-summer-drop"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_every_follow_gets_its_own_click_id(follow: Callable[..., Any], link: ReferralLink) -> None:
    first, second = follow(link.slug), follow(link.slug)
    ids = {SANDBOX_LOCATION.fullmatch(r.headers["Location"])["click"] for r in (first, second)}
    assert len(ids) == 2


def test_an_always_on_link_without_a_code_keeps_the_merchants_query(
    session: Session, follow: Callable[..., Any], store: Store
) -> None:
    # given
    link = create_link(session, store.shop.id, store.creator.id, target_path="/collections/x?a=1")
    session.commit()
    # when
    location = follow(link.slug).headers["Location"]
    # then
    assert re.fullmatch(
        r"https://tastemaker\.test/sandbox/mugs\.example/collections/x\?a=1&utm_source=tastemaker"
        r"&utm_medium=creator&utm_campaign=always-on&utm_content=ava&tm_click=[0-9a-f]{32}",
        location,
    ), location


def test_a_code_not_yet_active_in_the_store_is_left_out(
    session: Session, follow: Callable[..., Any], link: ReferralLink, store: Store
) -> None:
    store.code.status = "pending"
    session.commit()
    assert "discount=" not in follow(link.slug).headers["Location"]


@pytest.mark.parametrize(
    "headers",
    [
        {"User-Agent": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"},
        {"User-Agent": "Twitterbot/1.0"},
        {"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"},
        {"User-Agent": "WhatsApp/2.23.20.0"},
        {"User-Agent": "TelegramBot (like TwitterBot)"},
        {"User-Agent": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"},
        {
            "User-Agent": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"
        },
        {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
        {"User-Agent": "curl/8.5.0"},
        {"User-Agent": ""},
        {"User-Agent": BROWSER, "Sec-Purpose": "prefetch;prerender"},
    ],
)
def test_bots_and_previews_are_redirected_but_not_counted(
    session: Session, follow: Callable[..., Any], link: ReferralLink, headers: dict[str, str]
) -> None:
    # when
    response = follow(link.slug, **headers)
    flush_clicks()
    # then
    assert response.status_code == 302
    assert SANDBOX_LOCATION.fullmatch(response.headers["Location"])
    assert click_count(session) == 0


def test_head_requests_are_redirected_but_not_counted(
    session: Session, follow: Callable[..., Any], link: ReferralLink
) -> None:
    response = follow(link.slug, method="HEAD")
    flush_clicks()
    assert response.status_code == 302
    assert SANDBOX_LOCATION.fullmatch(response.headers["Location"])
    assert click_count(session) == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_only_get_and_head_are_answered(
    session: Session, follow: Callable[..., Any], link: ReferralLink, method: str
) -> None:
    # when
    response = follow(link.slug, method=method)
    flush_clicks()
    # then
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert "Location" not in response.headers
    assert click_count(session) == 0


def test_a_head_of_the_404_page_has_its_length_and_no_body(follow: Callable[..., Any]) -> None:
    # given the page a GET would get
    page = follow("NoSuchSlug42")
    # when
    response = follow("NoSuchSlug42", method="HEAD")
    # then
    assert response.status_code == 404
    assert response.get_data() == b""
    assert response.headers["Content-Length"] == str(len(page.get_data()))


def test_paths_outside_the_redirect_prefix_reach_the_app(client: Any) -> None:
    # the middleware in front of Flask passes everything else through
    assert client.get("/healthz").status_code == 200
    assert client.get("/r").status_code == 404  # the prefix is /r/, not /r


@pytest.mark.parametrize("slug", ["NoSuchSlug42", "x", "a" * 40, "abc-def_ghi"])
def test_an_unknown_slug_gets_a_friendly_404_page(follow: Callable[..., Any], slug: str) -> None:
    response = follow(slug)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "This link is not active" in response.get_data(as_text=True)
    assert "Location" not in response.headers


def test_an_inactive_link_is_a_404_that_offers_the_store(
    session: Session, follow: Callable[..., Any], link: ReferralLink, store: Store
) -> None:
    # given
    set_link_active(session, store.shop.id, link.id, False)
    session.commit()
    # when
    response = follow(link.slug)
    flush_clicks()
    # then
    assert response.status_code == 404
    assert 'href="https://tastemaker.test/sandbox/mugs.example/"' in response.get_data(as_text=True)
    assert click_count(session) == 0


def test_a_link_of_an_uninstalled_shop_is_inactive(
    session: Session, follow: Callable[..., Any], link: ReferralLink, store: Store
) -> None:
    mark_uninstalled(session, store.shop)
    session.commit()
    assert follow(link.slug).status_code == 404


@pytest.mark.parametrize(
    ("suffix", "headers"),
    [
        ("?next=https://evil.example&redirect=//evil.example&url=evil.example", {}),
        ("?target_path=//evil.example&tm_click=attacker&utm_source=evil", {}),
        ("/..%2F..%2Fevil.example", {}),
        ("%2F%2Fevil.example", {}),
        ("", {"Host": "evil.example"}),
        ("", {"X-Forwarded-Host": "evil.example", "Referer": "https://evil.example/"}),
    ],
)
def test_the_destination_never_comes_from_the_request(
    follow: Callable[..., Any], link: ReferralLink, suffix: str, headers: dict[str, str]
) -> None:
    # when
    response = follow(link.slug + suffix, **headers)
    # then: either the link's own destination, or no redirect at all
    location = response.headers.get("Location")
    assert response.status_code in (302, 404)
    assert location is None or SANDBOX_LOCATION.fullmatch(location), location
    assert "evil" not in (location or "")


def test_clicks_are_spooled_then_flushed_into_rows(
    session: Session, follow: Callable[..., Any], link: ReferralLink, store: Store
) -> None:
    # given three follows: two from the same visitor, one from another
    ids = [
        SANDBOX_LOCATION.fullmatch(follow(link.slug, **extra).headers["Location"])["click"]
        for extra in (
            {"Referer": "https://www.instagram.com/p/abc/"},
            {},
            {"User-Agent": BROWSER.replace("18_1", "17_0")},
        )
    ]
    assert click_count(session) == 0  # nothing written by the redirect itself
    # when
    stored = flush_clicks()
    # then
    assert stored == 3
    rows = {row.click_uid: row for row in session.query(Click)}
    assert set(rows) == set(ids)
    first, second, third = (rows[uid] for uid in ids)
    assert {(r.shop_id, r.link_id, r.creator_id) for r in rows.values()} == {
        (store.shop.id, link.id, store.creator.id)
    }
    assert first.referrer_host == "www.instagram.com"
    assert second.referrer_host is None
    assert first.visitor_hash == second.visitor_hash != third.visitor_hash
    # a keyed hash of ip + user agent with the app secret: neither is stored
    key = hashlib.sha256(b"tastemaker-visitor-hash:test-secret-key").digest()
    expected = hmac.new(key, f"127.0.0.1\n{BROWSER}".encode(), hashlib.sha256).hexdigest()
    assert first.visitor_hash == expected
    assert first.occurred_at.tzinfo is not None


def test_a_cached_link_redirects_through_a_database_outage_and_its_click_arrives_later(
    session: Session, follow: Callable[..., Any], link: ReferralLink, outage: Outage
) -> None:
    # given the link was followed once, then the database went down
    follow(link.slug)
    outage.start()
    # when the link is followed during the outage, even after its cache entry expired
    during = follow(link.slug)
    tracking().resolver.expire()
    after_expiry = follow(link.slug)
    flushed_during_outage = flush_clicks()
    # then both redirects were served and their clicks waited in the spool
    assert during.status_code == after_expiry.status_code == 302
    assert SANDBOX_LOCATION.fullmatch(after_expiry.headers["Location"])
    assert flushed_during_outage == 0
    assert tracking().recorder.spool.pending_segments() == 1
    # when the database is back
    outage.end()
    stored = flush_clicks()
    # then every click arrived
    assert stored == 3
    assert click_count(session) == 3
    assert tracking().recorder.spool.pending_segments() == 0


def test_a_slug_never_resolved_during_an_outage_gets_a_503_page(
    follow: Callable[..., Any], link: ReferralLink, outage: Outage
) -> None:
    # given
    outage.start()
    # when
    response = follow(link.slug)
    # then
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Please try again" in response.get_data(as_text=True)
    # and once the database is back the link works
    outage.end()
    assert follow(link.slug).status_code == 302


def test_an_expired_entry_is_reloaded_so_deactivation_takes_effect(
    session: Session, follow: Callable[..., Any], link: ReferralLink, store: Store
) -> None:
    # given a cached link that is then deactivated
    assert follow(link.slug).status_code == 302
    set_link_active(session, store.shop.id, link.id, False)
    session.commit()
    # when its entry expires (the first request after expiry still serves the cached entry
    # while it reloads; inline in tests, so the reload is done when that request returns)
    tracking().resolver.expire(link.slug)
    follow(link.slug)
    # then
    assert follow(link.slug).status_code == 404


def test_a_shopify_link_goes_through_the_shareable_discount_url(
    session: Session, follow: Callable[..., Any]
) -> None:
    # given a Shopify shop's link with the creator's active code
    shop = make_store(session, domain="mugs.myshopify.com", platform="shopify")
    link = create_link(
        session,
        shop.shop.id,
        shop.creator.id,
        target_path="/products/mug",
        campaign_id=shop.campaign.id,
        discount_code_id=shop.code.id,
    )
    session.commit()
    # when
    response = follow(link.slug)
    # then: the code applies itself, and the tracking parameters survive Shopify's redirect
    assert response.status_code == 302
    match = re.fullmatch(
        r"https://mugs\.myshopify\.com/discount/AVA10\?redirect=/products/mug"
        r"%3Futm_source%3Dtastemaker%26utm_medium%3Dcreator%26utm_campaign%3D(?P<campaign>[^%]+)"
        r"%26utm_content%3Dava%26tm_click%3D(?P<click>[0-9a-f]{32})",
        response.headers["Location"],
    )
    assert match is not None, response.headers["Location"]
    assert match["campaign"] == f"{shop.campaign.id}-summer-drop"


def test_a_shopify_link_without_a_code_goes_straight_to_the_page(
    session: Session, follow: Callable[..., Any]
) -> None:
    shop = make_store(session, domain="mugs.myshopify.com", platform="shopify")
    link = create_link(session, shop.shop.id, shop.creator.id, target_path="/products/mug")
    session.commit()
    assert re.fullmatch(
        r"https://mugs\.myshopify\.com/products/mug\?utm_source=tastemaker&utm_medium=creator"
        r"&utm_campaign=always-on&utm_content=ava&tm_click=[0-9a-f]{32}",
        follow(link.slug).headers["Location"],
    )
