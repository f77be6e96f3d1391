"""The embedded admin in headless Chromium: the app framed by an "admin" on another site.

The app runs on 127.0.0.1, the Shopify admin stand-in (plugin.demo.admin_host) on localhost: a
different site, so the app is a third party inside the frame. Third-party cookies are blocked,
and every request the browser sends to the app is checked to carry no cookie at all, so the
workflow below works with App Bridge session tokens only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from plugin.db import get_db
from plugin.models import ApiKey, Payout
from tests.admin.factories import make_creator, make_shop
from tests.shopify.framed_admin import (
    API_SECRET,
    ARTIFACTS,
    SHOP_A,
    SHOP_B,
    Served,
    Watch,
    db_rows,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]


def test_a_merchant_works_in_the_framed_admin_with_session_tokens_only(
    served: Served, browser: Any
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    watch = Watch(page, served.app_url)
    # when the merchant opens the app in the Shopify admin
    page.goto(served.admin.app_link(SHOP_A))
    app = page.frame_locator("#app-frame")
    # then the dashboard is framed, with the app's navigation in the admin's sidebar
    expect(app.get_by_role("heading", name="Creator program")).to_be_visible()
    expect(app.get_by_role("table").first).to_contain_text("@anna.knits")
    expect(app.get_by_text("bravo.only")).to_have_count(0)
    sidebar = page.get_by_role("navigation", name="Shopify admin")
    expect(sidebar.get_by_role("link", name="API keys")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embedded-admin.png"), full_page=False)
    # when the merchant approves anna's payout (a form POST inside the frame)
    app.get_by_role("button", name="Approve payout to @anna.knits").click()
    # then the admin shows a toast and the payout is approved
    expect(page.get_by_role("status").filter(has_text="Payout approved.")).to_be_visible()
    expect(app.get_by_role("button", name="Mark paid")).to_be_visible()
    assert [p.status for p in db_rows(served, select(Payout))] == ["approved"]
    # when they create an API key for an integration, from the admin's navigation
    sidebar.get_by_role("link", name="API keys").click()
    expect(app.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    expect(page.locator("#host-title")).to_have_text("Tastemaker · API keys")  # <ui-title-bar>
    app.get_by_label("Label").fill("Zapier")
    app.get_by_role("button", name="Create key").click()
    # then the key is shown once
    expect(app.get_by_role("heading", name="Copy your new key now")).to_be_visible()
    shown = app.get_by_label("API key").input_value()
    assert shown.startswith("tmk_")
    page.screenshot(path=str(ARTIFACTS / "embedded-keys.png"), full_page=False)
    # when they revoke it (the admin's App Bridge modal asks first)
    app.get_by_role("link", name="Revoke Zapier").click()
    modal = page.get_by_role("dialog", name="Revoke Zapier?")
    modal.get_by_role("button", name="Revoke key").click()
    # then
    expect(page.get_by_role("status").filter(has_text="revoked")).to_be_visible()
    expect(app.get_by_role("cell", name="Zapier")).to_be_visible()
    revoked = db_rows(served, select(ApiKey).where(ApiKey.label == "Zapier"))
    assert [key.revoked_at is not None for key in revoked] == [True]
    # and all of it ran on session tokens: no cookie went to the app or came from it
    assert watch.cookies_sent == []
    assert watch.cookies_set == []
    assert watch.bearer_requests >= 5
    assert watch.errors == []
    assert context.cookies(served.app_url) == []
    context.close()


def test_the_frame_shows_only_the_shop_it_was_opened_for(served: Served, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(served.admin.app_link(SHOP_B))
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", name="Creator program")).to_be_visible()
    expect(app.get_by_text("@bravo.only")).to_be_visible()
    expect(app.get_by_text("@anna.knits")).to_have_count(0)
    page.close()


def bad_token(served: Served, kind: str) -> str:
    good = served.admin.session_token(SHOP_A)
    if kind == "expired":
        return served.simulator.session_token(SHOP_A, secret=API_SECRET, now=1_700_000_000)
    if kind == "wrong-aud":
        return served.simulator.session_token(SHOP_A, secret=API_SECRET, aud="another-app")
    if kind == "alg-none":
        from tests.shopify.test_session_auth import alg_none

        return alg_none(good)
    if kind == "shop-b-as-a":
        # a token for shop B presented with shop A's admin URL
        return served.admin.session_token(SHOP_B)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["expired", "wrong-aud", "alg-none"])
def test_bad_tokens_are_refused_in_the_frame(served: Served, browser: Any, kind: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    token = bad_token(served, kind)

    def swap_token(route: Any) -> None:
        # the admin's first load of the frame, with a bad id_token instead of the good one
        parts = urlsplit(route.request.url)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        query["id_token"] = token
        route.continue_(url=f"{served.app_url}{parts.path}?{urlencode(query)}")

    page.route(f"{served.app_url}/admin?*", swap_token)
    page.goto(served.admin.app_link(SHOP_A))
    app = page.frame_locator("#app-frame")
    expect(
        app.get_by_role("heading", name="Your Shopify session could not be confirmed")
    ).to_be_visible()
    expect(app.get_by_text("@anna.knits")).to_have_count(0)
    page.close()


def test_an_uninstalled_shop_is_refused_in_the_frame(served: Served, browser: Any) -> None:
    from playwright.sync_api import expect

    uninstalled = "gone-away.myshopify.com"
    with served.app.app_context():
        session = get_db(served.app).new_session()
        shop = make_shop(session, uninstalled, platform="shopify", status="uninstalled")
        make_creator(session, shop, "ghost.creator")
        session.commit()
        session.close()
    served.simulator.shop(uninstalled).installed = False
    page = browser.new_page()
    page.goto(served.admin.app_link(uninstalled))
    app = page.frame_locator("#app-frame")
    expect(
        app.get_by_role("heading", name="Your Shopify session could not be confirmed")
    ).to_be_visible()
    expect(app.get_by_text("ghost.creator")).to_have_count(0)
    page.close()


def test_a_document_load_without_a_token_is_fetched_again_with_one(
    served: Served, browser: Any
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    watch = Watch(page, served.app_url)
    page.goto(served.admin.app_link(SHOP_A))
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", name="Creator program")).to_be_visible()
    # when the frame itself navigates to a page (a reload, a link the script did not handle)
    frame = next(f for f in page.frames if f.url.startswith(served.app_url))
    frame.evaluate(f"window.location.href = '/admin/keys?embedded=1&shop={SHOP_A}'")
    # then the app answers "loading" without its cookie and the script fetches it with a token
    expect(app.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    assert watch.cookies_sent == []
    assert watch.errors == []
    page.close()
