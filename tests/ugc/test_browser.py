"""The carousel in headless Chromium, on the demo's sample product page (strict CSP).

The app runs behind a real HTTP server in a thread, on its own file-backed SQLite database (the
per-test rolled-back connection cannot be shared across threads), seeded by the demo part.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Route
from sqlalchemy import select
from werkzeug.serving import make_server

from plugin import create_app
from plugin.db import get_db
from plugin.demo.ugc import HOSTILE_CAPTION, start
from plugin.manifest import ROOT
from plugin.migrate import upgrade
from plugin.models import Shop
from plugin.models.ugc import UgcPost, UgcRightsGrant
from plugin.services import rewards
from plugin.services import ugc_rights as rights
from plugin.tenancy import Tenant
from tests.browser_server import chromium
from tests.conftest import make_settings
from tests.ugc.browser_pages import (
    Live,
    Watched,
    count_events,
    count_events_reaching,
    in_shadow,
    slides,
    wait_for_images,
    wait_in_shadow,
    wait_until,
    watched_page,
)

pytestmark = pytest.mark.browser

SHOWN = ["@maya.moves", "@jo_runs", "@sam.outdoors", "@lena.daily", "@not_a_hacker"]
ARTIFACT = ROOT / "test-artifacts" / "ugc-carousel.png"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("ugc-browser")
    url = f"sqlite:///{tmp / 'browser.sqlite3'}"
    upgrade(url)
    holder: dict[str, Flask] = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, respond: holder["app"](env, respond), threaded=True
    )
    base = f"http://127.0.0.1:{server.server_port}"
    app = create_app(make_settings(tmp, database_url=url, public_url=base))
    holder["app"] = app
    with get_db(app).transaction() as session:
        for name in ("shop-a", "shop-b"):
            session.add(Shop(platform="sandbox", domain=f"{name}.sandbox", public_key=f"pk_{name}"))
    start(app, base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Live(app, base)
    server.shutdown()
    thread.join()
    server.server_close()
    get_db(app).dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as instance:
        yield instance


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A fresh page per test, watched for errors and dialogs (see browser_pages.watched_page)."""
    with watched_page(browser) as page:
        yield page


def test_the_carousel_renders_the_eligible_posts(live: Live, watched: Watched) -> None:
    page = watched.page
    # when
    page.goto(live.page_url("pk_shop-a"))
    # then only approved, on-site-granted posts show, each with its author and disclosure
    assert slides(page) == SHOWN
    labels = in_shadow(
        page,
        "return [...root.querySelectorAll('.slide')].map(s => "
        "(s.querySelector('.disc') || {}).textContent || '')",
    )
    assert labels == ["Paid partnership", "", "Paid partnership", "Rewarded post", ""]
    region = page.locator("tastemaker-ugc section")
    assert region.get_attribute("aria-label") == "As seen on you"
    assert region.get_attribute("aria-roledescription") == "carousel"
    first_image = page.locator("tastemaker-ugc .slide img").first
    assert first_image.get_attribute("loading") == "lazy"
    assert first_image.get_attribute("sizes") == "(min-resolution: 2dppx) 220px, 182px"
    assert first_image.get_attribute("alt") == "@maya.moves with the Rose Glow Serum"
    srcset = first_image.get_attribute("srcset") or ""
    assert [part.rsplit(" ", 1)[1] for part in srcset.split(", ")] == ["320w", "640w"]
    wait_for_images(page)
    ARTIFACT.parent.mkdir(exist_ok=True)
    page.locator("tastemaker-ugc").screenshot(path=str(ARTIFACT))
    # and nothing was refused by the page's strict CSP or Trusted Types
    assert watched.problems == []


def test_no_layout_shift_and_the_carousel_is_not_the_lcp(live: Live, watched: Watched) -> None:
    page = watched.page
    page.add_init_script(
        """
        window.__shifts = [];
        window.__lcp = [];
        new PerformanceObserver(list => {
          for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shifts.push(e.value);
        }).observe({type: 'layout-shift', buffered: true});
        new PerformanceObserver(list => {
          for (const e of list.getEntries()) window.__lcp.push(e.element && e.element.className);
        }).observe({type: 'largest-contentful-paint', buffered: true});
        """
    )
    # when the whole page, carousel and the text under it, is in view while the carousel loads
    page.goto(live.page_url("pk_shop-a"))
    assert slides(page) == SHOWN
    wait_for_images(page)
    page.wait_for_timeout(300)  # let the observers deliver the last frames
    # then nothing moved, and the largest paint is the product picture
    assert page.evaluate("window.__shifts") == []
    assert page.evaluate("window.__lcp[window.__lcp.length - 1]") == "hero"
    assert page.locator("tastemaker-ugc").bounding_box()["height"] == 532  # type: ignore[index]
    # and the observer does see a shift when something really moves (the check can fail)
    page.evaluate("document.querySelector('.details').style.marginTop = '120px'")
    page.wait_for_function("() => window.__shifts.length > 0")


def test_the_widget_starts_after_the_page_has_loaded_with_a_skeleton_meanwhile(
    live: Live, watched: Watched
) -> None:
    page = watched.page
    held: list[Route] = []
    page.route("**/storefront/*/ugc*", lambda route: held.append(route))  # no answer yet
    # when the page loads
    page.goto(live.page_url("pk_shop-a"))
    for _ in range(200):  # the sync API runs route handlers only while it waits
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    # then the reserved box shows the skeleton while the feed is on its way
    assert (
        page.evaluate(
            "document.querySelector('tastemaker-ugc').shadowRoot.querySelectorAll('.sk i').length"
        )
        == 4
    )
    # and the carousel's files were requested only after the page's load event
    timing = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const carousel = performance.getEntriesByType('resource')
            .find(e => /ugc-carousel\\.[0-9a-f]{10}\\.js$/.test(e.name));
          return [nav.loadEventEnd, carousel.startTime];
        }"""
    )
    assert timing[1] >= timing[0] > 0
    # and the loader never held back DOMContentLoaded (async, not parser-blocking or deferred)
    assert page.locator("script[src*='/widgets/ugc-loader.']").get_attribute("async") == ""
    held[0].continue_()
    assert slides(page) == SHOWN
    assert (
        page.evaluate("document.querySelector('tastemaker-ugc').shadowRoot.querySelector('.sk')")
        is None
    )
    assert watched.problems == []


def test_before_the_page_has_loaded_and_painted_the_loader_only_keeps_the_box(
    live: Live, watched: Watched
) -> None:
    page = watched.page
    # given a page script that looks at the element when the page's load event starts, and
    # records the largest paints
    page.add_init_script(
        """
        window.__atLoad = null;
        window.__lcp = [];
        new PerformanceObserver(list => {
          for (const e of list.getEntries()) window.__lcp.push(e.startTime);
        }).observe({type: 'largest-contentful-paint', buffered: true});
        addEventListener('load', () => {
          const host = document.querySelector('tastemaker-ugc');
          window.__atLoad = {shadow: host.shadowRoot !== null, height: host.style.height};
        });
        """
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    priorities: dict[str, str] = {}
    cdp.on(
        "Network.requestWillBeSent",
        lambda event: priorities.__setitem__(
            event["request"]["url"], event["request"]["initialPriority"]
        ),
    )
    # when
    page.goto(live.page_url("pk_shop-a"))
    assert slides(page) == SHOWN
    # then at the page's load the loader had run (async scripts hold back load) but had only
    # kept the reserved height: no shadow root, no skeleton, nothing for the page to lay out
    assert page.evaluate("window.__atLoad") == {"shadow": False, "height": "532px"}
    # and the carousel was requested after the page's largest paint
    timing = page.evaluate(
        """() => {
          const carousel = performance.getEntriesByType('resource')
            .find(e => /ugc-carousel\\.[0-9a-f]{10}\\.js$/.test(e.name));
          return [Math.max(...window.__lcp), carousel.startTime];
        }"""
    )
    assert 0 < timing[0] <= timing[1]
    # and the feed went out at low priority (fetch() is high by default)
    feed = [url for url in priorities if "/storefront/pk_shop-a/ugc" in url]
    assert [priorities[url] for url in feed] == ["Low"]
    assert watched.problems == []


@pytest.mark.parametrize(("scale", "width"), [(1.75, "320"), (2.0, "640")])
def test_images_are_right_sized_for_the_screen(
    browser: Browser, live: Live, scale: float, width: str
) -> None:
    context = browser.new_context(
        viewport={"width": 412, "height": 1400}, device_scale_factor=scale, is_mobile=True
    )
    page = context.new_page()
    try:
        page.goto(live.page_url("pk_shop-a"))
        slides(page)
        wait_for_images(page)
        chosen = page.evaluate(
            "document.querySelector('tastemaker-ugc').shadowRoot.querySelector('img').currentSrc"
        )
        assert chosen.endswith(f"-{width}.webp")
    finally:
        context.close()


def test_keyboard_navigation_buttons_and_reduced_motion(browser: Browser, live: Live) -> None:
    context = browser.new_context(viewport={"width": 800, "height": 1400}, reduced_motion="reduce")
    page = context.new_page()
    page.goto(live.page_url("pk_shop-a"))
    slides(page)
    ids = in_shadow(page, "return [...root.querySelectorAll('.slide')].map(s => s.dataset.post)")
    active = "return root.activeElement && root.activeElement.dataset.post"
    # when a shopper tabs to the first slide and uses the arrow keys
    page.locator("tastemaker-ugc .slide").first.focus()
    page.keyboard.press("ArrowRight")
    assert in_shadow(page, active) == ids[1]
    assert in_shadow(page, "return getComputedStyle(root.activeElement).outlineStyle") == "solid"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert in_shadow(page, active) == ids[1]
    page.keyboard.press("End")
    assert in_shadow(page, active) == ids[-1]
    assert in_shadow(page, "return root.querySelector('.track').scrollLeft") > 0
    # the buttons follow the scroll position, a frame later
    wait_in_shadow(page, "root.querySelector('.next').disabled")
    page.keyboard.press("Home")
    assert in_shadow(page, active) == ids[0]
    # roving tabindex: exactly one slide is in the tab order
    tabbable = in_shadow(page, "return [...root.querySelectorAll('.slide')].map(s => s.tabIndex)")
    assert tabbable == [0, -1, -1, -1, -1]
    # reduced motion: no smooth scrolling
    behavior = in_shadow(
        page, "return getComputedStyle(root.querySelector('.track')).scrollBehavior"
    )
    assert behavior == "auto"
    # the buttons page through the track
    wait_in_shadow(page, "root.querySelector('.prev').disabled")
    page.locator("tastemaker-ugc .next").click()
    wait_in_shadow(page, "root.querySelector('.track').scrollLeft > 0")
    assert page.locator("tastemaker-ugc .prev").get_attribute("aria-label") == "Previous posts"
    context.close()


def program(live: Live, *, enabled: bool) -> None:
    with get_db(live.app).transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.public_key == "pk_shop-a")).one()
        rewards.save_program(Tenant(session, shop.id), {"enabled": enabled})


@pytest.mark.parametrize(
    ("width", "label"), [(390, "Get a reward"), (1280, "Post yours, get a reward")]
)
def test_the_try_and_tag_link_leaves_the_heading_whole(
    browser: Browser, live: Live, width: int, label: str
) -> None:
    # given the shop's Try & Tag program is on, so the carousel's head row links to it
    program(live, enabled=True)
    try:
        context = browser.new_context(viewport={"width": width, "height": 1400})
        page = context.new_page()
        # when the product page is seen on a phone or a desktop
        page.goto(live.page_url("pk_shop-a"))
        slides(page)
        wait_in_shadow(page, "root.querySelector('.tag') !== null")
        # then the link shows the label that fits, and the heading is not cut short
        shown = in_shadow(page, "return root.querySelector('.tag').innerText.trim()")
        heading = in_shadow(
            page, "const h = root.querySelector('.title'); return [h.scrollWidth, h.clientWidth]"
        )
        context.close()
    finally:
        program(live, enabled=False)
    assert shown == label
    assert heading[0] <= heading[1]


def test_swipe_scrolls_the_track(browser: Browser, live: Live) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 1400}, has_touch=True)
    page = context.new_page()
    page.goto(live.page_url("pk_shop-a"))
    slides(page)
    box = page.locator("tastemaker-ugc .track").bounding_box()
    assert box is not None
    # a finger drags from right to left across the track
    cdp = context.new_cdp_session(page)
    x, y = box["x"] + 300, box["y"] + 100
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        point = {"x": x - 25 * step, "y": y}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    wait_in_shadow(page, "root.querySelector('.track').scrollLeft > 0")
    context.close()


def test_add_to_cart_posts_the_variant_to_the_shopify_ajax_cart(
    live: Live, watched: Watched
) -> None:
    page = watched.page
    requests: list[dict[str, Any]] = []

    def cart(route: Route) -> None:
        request = route.request
        requests.append(
            {
                "method": request.method,
                "type": request.headers.get("content-type"),
                "body": json.loads(request.post_data or "null"),
            }
        )
        route.fulfill(status=200, content_type="application/json", body='{"items":[]}')

    page.route("**/cart/add.js", cart)
    before = count_events(live, "add_to_cart")
    page.goto(live.page_url("pk_shop-a"))
    slides(page)
    # when
    page.locator("tastemaker-ugc .add").first.click()
    # then
    status = page.locator("tastemaker-ugc .status")
    status.filter(has_text="Added to cart").wait_for()
    assert status.inner_text() == "Added to cart: Rose Glow Serum"
    assert requests == [
        {
            "method": "POST",
            "type": "application/json",
            "body": {"items": [{"id": 2001, "quantity": 1}]},
        }
    ]
    assert page.locator("tastemaker-ugc .add").first.inner_text() == "Added \u2713"
    # and the click reached the beacon endpoint
    wait_until(lambda: count_events(live, "add_to_cart") == before + 1)
    assert watched.problems == []


def test_add_to_cart_on_woocommerce_uses_wc_ajax(live: Live, watched: Watched) -> None:
    page = watched.page
    forms: list[str] = []

    def as_woocommerce(route: Route) -> None:
        original = route.fetch()
        html = original.text().replace('platform="shopify"', 'platform="woocommerce"')
        csp = original.headers["content-security-policy"]
        route.fulfill(
            status=200,
            body=html,
            headers={
                "Content-Type": "text/html; charset=utf-8",
                "Content-Security-Policy": csp,
            },
        )

    def wc_ajax(route: Route) -> None:
        forms.append(route.request.post_data or "")
        route.fulfill(status=200, content_type="application/json", body='{"fragments":{}}')

    page.route(live.page_url("pk_shop-a"), as_woocommerce)
    page.route("**/?wc-ajax=add_to_cart", wc_ajax)
    page.goto(live.page_url("pk_shop-a"))
    slides(page)
    # jo_runs' slide: its first product is the one on this page
    page.locator("tastemaker-ugc .add").nth(1).click()
    page.locator("tastemaker-ugc .status").filter(has_text="Added to cart").wait_for()
    assert forms == ["product_id=2001&quantity=1"]


def test_impressions_are_sent_with_send_beacon(live: Live, watched: Watched) -> None:
    before = count_events(live, "impression")
    watched.page.goto(live.page_url("pk_shop-a"))
    slides(watched.page)
    # the page going away flushes the batch (pagehide), as when a shopper leaves
    watched.page.goto("about:blank")
    impressions = count_events_reaching(live, "impression", before + 4)
    assert impressions >= before + 4


def test_hostile_captions_and_urls_stay_inert(live: Live, watched: Watched) -> None:
    page = watched.page
    page.goto(live.page_url("pk_shop-a"))
    assert slides(page) == SHOWN
    hostile = page.locator("tastemaker-ugc .slide").nth(4)
    # the caption is text, not markup, and the javascript: link was never made
    assert hostile.locator(".caption").inner_text() == HOSTILE_CAPTION
    assert in_shadow(page, "return root.querySelectorAll('img[src=\"x\"]').length") == 0
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert hostile.locator("a.media").count() == 0
    assert hostile.locator("img").get_attribute("alt") == HOSTILE_CAPTION
    assert watched.problems == []


def test_a_tampered_feed_cannot_inject_markup_links_or_media(live: Live, watched: Watched) -> None:
    page = watched.page
    evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'

    def post(post_id: int, **overrides: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "id": post_id,
            "media": {
                "type": "image",
                "width": 640,
                "height": 800,
                "sources": [{"url": f"{live.base}/static/ugc/none.webp", "width": 640}],
            },
            "alt": evil,
            "caption": evil,
            "author": evil,
            "network": "other",
            "url": "javascript:window.__pwned=3",
            "disclosure": evil,
            "products": [
                {
                    "id": "1",
                    "title": evil,
                    "price_minor": 100,
                    "currency": "USD",
                    "variant_id": "9",
                    "url": "javascript:window.__pwned=4",
                }
            ],
        }
        base.update(overrides)
        return base

    feed = {
        "posts": [
            post(1),
            post(
                2,
                media={
                    "type": "image",
                    "width": 1,
                    "height": 1,
                    "sources": [
                        {"url": "javascript:window.__pwned=5", "width": 1},
                        {"url": "data:image/svg+xml,<svg onload='window.__pwned=6'/>", "width": 2},
                        {"url": "http://evil.example/a.jpg", "width": 3},
                        {"url": "https://evil.example/a.jpg", "width": 4},
                    ],
                },
            ),
        ],
        "source": "product",
    }
    page.route(
        "**/storefront/*/ugc*",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(feed)
        ),
    )
    page.goto(live.page_url("pk_shop-a"))
    page.locator("tastemaker-ugc .slide").first.wait_for()
    # then one slide (the other had no safe media), every hostile string shown as text
    assert page.locator("tastemaker-ugc .slide").count() == 1
    assert page.locator("tastemaker-ugc .caption").inner_text() == evil
    assert page.locator("tastemaker-ugc .ptitle").inner_text() == evil
    assert (
        in_shadow(page, "return root.querySelectorAll('script, [onerror], [onload], a').length")
        == 0
    )
    page.locator("tastemaker-ugc .slide").first.click()
    assert page.evaluate("window.__pwned") is None
    assert [p for p in watched.problems if "dialog" in p or "pwned" in p] == []


def test_a_revoked_post_disappears_from_the_next_feed_the_browser_fetches(
    browser: Browser, live: Live, watched: Watched
) -> None:
    page = watched.page
    page.goto(live.page_url("pk_shop-b"))
    assert slides(page) == SHOWN
    # when the creator withdraws consent for maya.moves' post
    with live.app.app_context(), get_db(live.app).transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.public_key == "pk_shop-b")).one()
        tenant = Tenant(session, shop.id)
        post = tenant.first(UgcPost, UgcPost.author_handle == "maya.moves")
        assert post is not None
        grant = tenant.first(
            UgcRightsGrant,
            UgcRightsGrant.ugc_post_id == post.id,
            UgcRightsGrant.status == "granted",
        )
        assert grant is not None
        rights.revoke_rights(tenant, grant, "consent withdrawn")
    # then the browser that saw it keeps its copy of the feed for at most the feed's short
    # max-age (then revalidates), and every browser without that copy never sees the post
    feed = page.request.get(f"{live.base}/storefront/pk_shop-b/ugc?limit=12&product=1001")
    assert feed.headers["cache-control"].startswith("public, max-age=30,")
    with watched_page(browser) as fresh:
        fresh.page.goto(live.page_url("pk_shop-b"))
        assert slides(fresh.page) == [handle for handle in SHOWN if handle != "@maya.moves"]
        assert fresh.problems == []
