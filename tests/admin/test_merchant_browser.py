"""Every merchant workflow in headless Chromium, as a merchant would walk it, against a real local
HTTP server: no console error and no CSP violation on any page. Screenshots go to
test-artifacts/merchant-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from plugin import create_app
from plugin.db import get_db
from plugin.migrate import upgrade
from plugin.models import Campaign, Creator, Payout, ReferralLink, Shop
from plugin.models.ugc import UgcPost
from tests.admin.browser_seed import Seeded, seed
from tests.browser_server import chromium, serving
from tests.conftest import make_settings

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Collects CSP violations in the page itself (Playwright's init scripts are not subject to CSP).
CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""
IMPORT_CSV = (
    "handle,name,email,niche,audience_size,instagram\n"
    "glow.with.mia,Mia Chen,mia@example.com,skincare,42000,@glow.with.mia\n"
    "dewy.dan,Dan Ortiz,,sunscreen,1200,\n"
)


def _seed_more(session: Any, seeded: Seeded) -> None:
    """A post waiting for review, its disclosure already checked."""
    session.add(
        UgcPost(
            shop_id=seeded.shop_id,
            source="creator",
            caption="Wearing the merino scarf all week #ad",
            author_handle="anna.knits",
            product_ids=["p1"],
            moderation_status="pending",
            disclosure_ok=True,
            disclosure_matches=["#ad"],
        )
    )
    session.commit()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded, Any]]:
    tmp = tmp_path_factory.mktemp("merchant-browser")
    database_url = f"sqlite:///{tmp / 'browser.sqlite3'}"
    upgrade(database_url)
    settings = make_settings(tmp, database_url=database_url)
    app = create_app(settings)
    with app.app_context():
        session = get_db(app).new_session()
        seeded = seed(session)
        _seed_more(session, seeded)
        session.close()
    with serving(app, settings, database_url) as base_url:
        yield base_url, seeded, app


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


class Walk:
    """A signed-in page that records console errors and CSP violations of every page it opens."""

    def __init__(self, browser: Any, base_url: str, key: str) -> None:
        self.base_url = base_url
        self.page = browser.new_page(viewport={"width": 1366, "height": 900})
        self.page.add_init_script(CSP_PROBE)
        self.errors: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(f"{self.page.url}: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        self.page.on("pageerror", lambda error: self.errors.append(f"{self.page.url}: {error}"))
        self.page.goto(f"{base_url}/admin")
        self.page.get_by_label("API key").fill(key)
        self.page.get_by_role("button", name="Sign in").click()

    def check(self, shot: str | None = None) -> None:
        violations = self.page.evaluate("window.__csp || []")
        assert violations == [], f"{self.page.url}: {violations}"
        assert self.errors == []
        if shot:
            ARTIFACTS.mkdir(exist_ok=True)
            self.page.screenshot(path=str(ARTIFACTS / f"merchant-{shot}.png"), full_page=True)

    def open(self, path: str, shot: str | None = None) -> Any:
        self.page.goto(self.base_url + path)
        self.check(shot)
        return self.page


def rows(app: Any, statement: Any) -> list[Any]:
    with app.app_context():
        db = get_db(app).new_session()
        found = list(db.scalars(statement))
        db.expunge_all()
        db.close()
    return found


def test_every_nav_page_renders_without_console_errors_or_csp_violations(
    server: tuple[str, Seeded, Any], browser: Any
) -> None:
    from playwright.sync_api import expect

    base_url, seeded, _app = server
    walk = Walk(browser, base_url, seeded.api_key)
    nav = walk.page.get_by_role("navigation", name="Tastemaker")
    labels = [link.inner_text() for link in nav.get_by_role("link").all()]
    assert labels[:3] == ["Dashboard", "Performance", "Creators"]
    for label in labels:
        nav.get_by_role("link", name=label, exact=True).click()
        expect(walk.page.get_by_role("heading", level=1).first).to_be_visible()
        walk.check("nav-" + label.lower().replace(" & ", "-").replace(" ", "-"))
    assert walk.page.request.get(f"{base_url}/favicon.ico").status == 200
    walk.page.close()


def test_creators_add_with_inline_errors_import_pause_and_earnings_link(
    server: tuple[str, Seeded, Any], browser: Any
) -> None:
    from playwright.sync_api import expect

    base_url, seeded, app = server
    walk = Walk(browser, base_url, seeded.api_key)
    page = walk.open("/admin/creators")
    expect(page.get_by_role("table")).to_contain_text("@anna.knits")
    # add: a bad handle is reported next to the field, the typed name is kept
    page.get_by_role("link", name="Add creator").first.click()
    page.get_by_label("Handle").fill("-glow")
    page.get_by_label("Name").fill("Glow Co")
    page.get_by_role("button", name="Add creator").click()
    expect(page.locator("#e-handle")).to_contain_text("must start with a letter or digit")
    expect(page.get_by_label("Name")).to_have_value("Glow Co")
    walk.check("creator-form-error")
    page.get_by_label("Handle").fill("glow.co")
    page.get_by_role("button", name="Add creator").click()
    expect(page.get_by_role("status")).to_contain_text("@glow.co added")
    walk.check("creator-added")
    # import: preview, then apply; the list then holds both
    page = walk.open("/admin/creators/import")
    page.get_by_label("…or paste the text").fill(IMPORT_CSV)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("2 to add")).to_be_visible()
    walk.check("creator-import-preview")
    page.get_by_role("button", name="Import 2 changes").click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 2 added")
    # pause: asks first, then codes and links go off
    anna = rows(app, select(Creator).where(Creator.handle == "anna.knits"))[0]
    page = walk.open(f"/admin/creators/{anna.id}", "creator")
    expect(page.get_by_role("img", name="Clicks and orders per day")).to_be_visible()
    page.get_by_role("link", name="Rotate earnings link").click()
    page.get_by_role("button", name="Rotate link").click()
    expect(page.get_by_label("Private earnings page")).to_have_value(
        re.compile(rf"^{re.escape(base_url)}/creator/")
    )
    expect(page.get_by_role("button", name="Copy")).to_be_visible()  # the script ran
    walk.check("earnings-link")
    page = walk.open(f"/admin/creators/{anna.id}")
    page.get_by_role("link", name="Pause").click()
    expect(page.get_by_role("heading", name="Pause @anna.knits?")).to_be_visible()
    walk.check("creator-pause-confirm")
    page.get_by_role("button", name="Pause @anna.knits").click()
    expect(page.get_by_role("status")).to_contain_text("@anna.knits is paused")
    links = rows(app, select(ReferralLink).where(ReferralLink.creator_id == anna.id))
    assert [link.active for link in links] == [False]
    walk.page.close()


def test_codes_links_campaigns_and_settings(server: tuple[str, Seeded, Any], browser: Any) -> None:
    from playwright.sync_api import expect

    base_url, seeded, app = server
    walk = Walk(browser, base_url, seeded.api_key)
    # a taken code offers its alternatives
    page = walk.open("/admin/codes", "codes")
    expect(page.get_by_role("button", name="Use KNITS1")).to_be_visible()
    # a link with its live URL and a copy button
    page = walk.open("/admin/links/new")
    page.get_by_label("Creator").select_option(label="@ben_makes")
    page.get_by_label("Page of your store").fill("/products/chunky-yarn")
    page.get_by_role("button", name="Create link").click()
    expect(page.get_by_role("status")).to_contain_text("created")
    expect(page.get_by_role("button", name="Copy").first).to_be_visible()
    walk.check("links")
    # a campaign with a target, charted against it
    page = walk.open("/admin/campaigns/new")
    page.get_by_label("Name").fill("Winter knits live drop")
    page.get_by_label("Format").select_option("live_drop")
    page.get_by_label("Primary KPI").select_option("orders")
    page.get_by_label("Target for the whole campaign").fill("40")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("img", name="Orders against the target")).to_be_visible()
    walk.check("campaign")
    assert rows(app, select(Campaign.kpi_target)) == [40]
    # settings: an error inline, then saved
    page = walk.open("/admin/settings")
    page.get_by_label("Hold period (days)").fill("400")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#e-hold_days")).to_contain_text("must be between 0 and 365")
    walk.check("settings-error")
    page.get_by_label("Hold period (days)").fill("14")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved")
    assert rows(app, select(Shop.hold_days)) == [14]
    walk.page.close()


def test_content_review_and_payouts(server: tuple[str, Seeded, Any], browser: Any) -> None:
    from playwright.sync_api import expect

    base_url, seeded, app = server
    walk = Walk(browser, base_url, seeded.api_key)
    page = walk.open("/admin/content", "content")
    post = page.get_by_role("article")
    expect(post).to_contain_text("disclosed")
    post.get_by_text("Reject…").click()
    post.get_by_role("button", name="Reject post").click()
    expect(page.get_by_role("alert")).to_contain_text("reason is required to reject a post")
    walk.check("content-reject-error")
    page.get_by_role("button", name="Approve post by @anna.knits").click()
    expect(page.get_by_role("status")).to_contain_text("is approved")
    walk.open("/admin/content/carousel", "carousel")
    # payouts: approve, mark paid with a reference, the paid batch still exports
    page = walk.open("/admin/payouts")
    page.get_by_role("button", name="Approve payout to @anna.knits").click()
    page.get_by_label("Payment reference for @anna.knits").fill("WISE-991")
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_role("status")).to_contain_text("marked paid (WISE-991)")
    walk.check("payouts")
    (payout,) = rows(app, select(Payout))
    assert (payout.status, payout.external_reference) == ("paid", "WISE-991")
    csv_text = page.request.get(f"{base_url}/admin/payouts/batches/{payout.batch_key}.csv").text()
    assert "anna@pay.example" in csv_text
    walk.page.close()
