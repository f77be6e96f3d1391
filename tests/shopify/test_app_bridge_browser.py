"""App Bridge's modal, save bar, toasts and top-window exits in the framed admin (Chromium).

Driven through the Shopify admin stand-in (plugin.demo.admin_host), which draws `<ui-modal>`,
`<ui-save-bar>` / `data-save-bar` and `shopify.toast` outside the app's iframe the way the
Shopify admin does, with third-party cookies blocked: everything here runs on session tokens.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from plugin.models import Creator, Payout, Shop
from tests.shopify.framed_admin import API_KEY, ARTIFACTS, SHOP_A, Served, Watch, db_rows

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]


class Posts:
    """The POSTs the browser sent to the app, by path."""

    def __init__(self, page: Any, app_url: str) -> None:
        self.page = page
        self.paths: list[str] = []
        page.on(
            "request",
            lambda request: (
                self.paths.append(request.url[len(app_url) :].split("?")[0])
                if request.method == "POST" and request.url.startswith(app_url)
                else None
            ),
        )

    def seen(self, count: int, timeout: float = 5.0) -> list[str]:
        """The paths once `count` POSTs arrived (or the timeout passed): Playwright hands its
        request events to Python only while it is called, and the page may show the answer of
        a POST before its request event reached this listener."""
        deadline = time.monotonic() + timeout
        while len(self.paths) < count and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
        return self.paths


def open_admin(served: Served, browser: Any, shop: str = SHOP_A) -> tuple[Any, Any, Any, Watch]:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page, served.app_url)
    page.goto(served.admin.app_link(shop))
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", name="Creator program")).to_be_visible()
    return context, page, app, watch


def creator_status(served: Served, handle: str) -> str:
    rows = db_rows(served, select(Creator.status).where(Creator.handle == handle))
    return str(rows[0])


def sidebar(page: Any) -> Any:
    return page.get_by_role("navigation", name="Shopify admin")


def test_a_destructive_action_happens_only_once_the_modal_is_confirmed(
    served: Served, browser: Any
) -> None:
    from playwright.sync_api import expect

    context, page, app, watch = open_admin(served, browser)
    posts = Posts(page, served.app_url)
    sidebar(page).get_by_role("link", name="Creators").click()
    app.get_by_role("link", name="@ben_makes").click()
    expect(app.get_by_role("heading", name="@ben_makes")).to_be_visible()
    # when the merchant presses Pause
    app.get_by_role("link", name="Pause", exact=True).click()
    # then the admin's modal asks, with the confirmation page's own words, over the creator page
    modal = page.get_by_role("dialog", name="Pause @ben_makes?")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("discount codes are deactivated in your store")
    expect(app.get_by_role("heading", name="@ben_makes")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embedded-modal.png"))
    # when they keep the creator as is
    modal.get_by_role("button", name="Keep as is").click()
    # then nothing was sent and nothing changed
    expect(modal).to_be_hidden()
    assert posts.paths == []
    assert creator_status(served, "ben_makes") == "active"
    # when they ask again and close the modal with Escape
    app.get_by_role("link", name="Pause", exact=True).click()
    expect(modal).to_be_visible()
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    assert posts.paths == []
    # when they ask again and confirm
    app.get_by_role("link", name="Pause", exact=True).click()
    modal.get_by_role("button", name="Pause @ben_makes").click()
    # then the creator is paused, once, and the admin shows a toast
    expect(page.get_by_role("status").filter(has_text="@ben_makes is paused")).to_be_visible()
    expect(app.get_by_role("link", name="Resume")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "embedded-toast.png"))
    assert creator_status(served, "ben_makes") == "paused"
    assert [path.rsplit("/", 1)[1] for path in posts.seen(1)] == ["status"]
    assert watch.cookies_sent == []
    assert watch.errors == []
    context.close()


def test_a_form_that_acts_at_once_asks_in_the_modal_first(served: Served, browser: Any) -> None:
    from playwright.sync_api import expect

    context, page, app, watch = open_admin(served, browser)
    posts = Posts(page, served.app_url)
    # when the merchant cancels anna's payout from the dashboard
    app.get_by_role("button", name="Cancel payout to @anna.knits").click()
    modal = page.get_by_role("dialog", name="Cancel the payout to @anna.knits?")
    expect(modal).to_be_visible()
    assert posts.paths == []
    modal.get_by_role("button", name="Cancel payout").click()
    # then
    expect(page.get_by_role("status").filter(has_text="Payout cancelled")).to_be_visible()
    assert [p.status for p in db_rows(served, select(Payout))] == ["cancelled"]
    assert len(posts.seen(1)) == 1
    assert watch.errors == []
    context.close()


def test_the_save_bar_shows_for_an_edited_form_and_saves_or_discards(
    served: Served, browser: Any
) -> None:
    from playwright.sync_api import expect

    context, page, app, watch = open_admin(served, browser)
    sidebar(page).get_by_role("link", name="Settings").click()
    hold = app.get_by_label("Hold period (days)")
    expect(hold).to_be_visible()
    before = hold.input_value()
    save_bar = page.get_by_role("region", name="Unsaved changes")
    expect(save_bar).to_be_hidden()
    # when the merchant edits a field
    hold.fill("21")
    # then the admin's save bar shows
    expect(save_bar).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "embedded-save-bar.png"))
    # and the admin's navigation stays put while the changes are unsaved
    sidebar(page).get_by_role("link", name="Creators").click()
    expect(app.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    # when they discard
    save_bar.get_by_role("button", name="Discard").click()
    # then the form is back as it loaded and the bar is gone
    expect(hold).to_have_value(before)
    expect(save_bar).to_be_hidden()
    # when they edit again and press the save bar's Save
    hold.fill("21")
    expect(save_bar).to_be_visible()
    save_bar.get_by_role("button", name="Save").click()
    # then the settings are saved (a session-token POST), with a toast, and the bar is gone
    expect(page.get_by_role("status").filter(has_text="Settings saved")).to_be_visible()
    expect(save_bar).to_be_hidden()
    assert [shop.hold_days for shop in db_rows(served, select(Shop).where(Shop.id == 1))] == [21]
    assert watch.cookies_sent == []
    assert watch.errors == []
    context.close()


def install_query(served: Served, shop: str) -> str:
    params = {
        "host": served.simulator.host_param(shop),
        "shop": shop,
        "timestamp": str(int(time.time())),
    }
    return urlencode(served.simulator.signed_query(params))


def test_a_non_embedded_install_ends_inside_the_shopify_admin(served: Served, browser: Any) -> None:
    from playwright.sync_api import expect

    shop = "fresh-yarns.myshopify.com"
    context = browser.new_context()
    page = context.new_page()
    # when a merchant installs from outside the admin (the OAuth grant, top level)
    page.goto(f"{served.app_url}/shopify/install?{install_query(served, shop)}")
    # then the callback sends them into their Shopify admin, where the app is framed
    expect(page).to_have_url(f"{served.admin.url}/store/fresh-yarns/apps/{API_KEY}")
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", name="Creator program")).to_be_visible()
    expect(page.locator("#host-title")).to_have_text("Tastemaker · Dashboard")
    page.screenshot(path=str(ARTIFACTS / "embedded-after-install.png"))
    installed = db_rows(served, select(Shop.status).where(Shop.domain == shop))
    assert installed == ["active"]
    context.close()


def test_an_install_opened_in_the_frame_leaves_it_through_app_bridge(
    served: Served, browser: Any
) -> None:
    from playwright.sync_api import expect

    shop = "framed-yarns.myshopify.com"
    context = browser.new_context()
    page = context.new_page()
    framed: list[tuple[str, int]] = []
    top: list[str] = []

    def seen(response: Any) -> None:
        if not response.url.startswith(served.app_url + "/shopify/"):
            return
        if response.frame == page.main_frame:
            top.append(response.url.split("?")[0][len(served.app_url) :])
        else:
            framed.append((response.url.split("?")[0][len(served.app_url) :], response.status))

    page.on("response", seen)
    # when the admin frames the OAuth install (an app whose application_url is /shopify/install)
    page.goto(f"{served.admin.url}/store/framed-yarns/apps/{API_KEY}/shopify/install")
    # then the install ends in the framed admin of the new shop
    expect(page).to_have_url(f"{served.admin.url}/store/framed-yarns/apps/{API_KEY}")
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", name="Creator program")).to_be_visible()
    assert db_rows(served, select(Shop.status).where(Shop.domain == shop)) == ["active"]
    # and the frame answered the install with a page (App Bridge's open(url, "_top")), never a
    # redirect: the OAuth grant and its callback ran in the top window
    assert framed[0] == ("/shopify/install", 200)
    assert all(status == 200 for _path, status in framed)
    assert top == ["/shopify/install", "/shopify/callback"]
    context.close()


def test_the_admin_stand_in_draws_a_ui_save_bar_and_clicks_its_buttons(
    served: Served, browser: Any
) -> None:
    """The stand-in's `<ui-save-bar>` and `shopify.saveBar` (what apps drive by hand)."""
    from playwright.sync_api import expect

    context, page, _app, watch = open_admin(served, browser)
    frame = next(f for f in page.frames if f.url.startswith(served.app_url))
    frame.evaluate(
        """() => {
          const bar = document.createElement("ui-save-bar");
          bar.id = "draft-bar";
          bar.innerHTML = '<button variant="primary">Save</button><button>Discard</button>';
          document.body.appendChild(bar);
          window.pressed = [];
          bar.querySelectorAll("button").forEach((button) => button.addEventListener(
            "click", () => window.pressed.push(button.textContent)));
          bar.addEventListener("hide", () => window.pressed.push("hidden"));
        }"""
    )
    save_bar = page.get_by_role("region", name="Unsaved changes")
    # when the app shows it by id
    frame.evaluate("() => shopify.saveBar.show('draft-bar')")
    # then the admin shows it, and its buttons click the app's own
    expect(save_bar).to_be_visible()
    assert frame.evaluate("() => document.getElementById('draft-bar').showing") is True
    save_bar.get_by_role("button", name="Discard").click()
    save_bar.get_by_role("button", name="Save").click()
    frame.wait_for_function("() => window.pressed.length === 2")
    assert frame.evaluate("() => window.pressed") == ["Discard", "Save"]
    # when the app hides it
    frame.evaluate("() => document.getElementById('draft-bar').hide()")
    expect(save_bar).to_be_hidden()
    assert frame.evaluate("() => window.pressed") == ["Discard", "Save", "hidden"]
    assert watch.errors == []
    context.close()
