"""The dashboard and the creator page in headless Chromium, against a real local HTTP server.

The app runs on a file-backed SQLite database with committed data (the per-test rolled-back
connection cannot be shared with the server thread). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from plugin import create_app
from plugin.db import get_db
from plugin.migrate import upgrade
from plugin.models import Payout
from tests.admin.browser_seed import Seeded, seed
from tests.browser_server import chromium, serving
from tests.conftest import make_settings

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded, Any]]:
    tmp = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{tmp / 'browser.sqlite3'}"
    upgrade(database_url)
    settings = make_settings(tmp, database_url=database_url)
    app = create_app(settings)
    with app.app_context():
        session = get_db(app).new_session()
        seeded = seed(session)
        session.close()
    with serving(app, settings, database_url) as base_url:
        yield base_url, seeded, app


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


def test_admin_renders_creators_and_metrics_and_approves_a_payout(
    server: tuple[str, Seeded, Any], browser: Any
) -> None:
    from playwright.sync_api import expect

    base_url, seeded, app = server
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    # when the merchant signs in with an API key (the standalone form)
    page.goto(f"{base_url}/admin")
    page.get_by_label("API key").fill(seeded.api_key)
    page.get_by_role("button", name="Sign in").click()
    # then the dashboard shows the creators with their codes and metrics
    expect(page.get_by_role("heading", name="Creator program")).to_be_visible()
    creators = page.get_by_role("table").first
    expect(creators).to_contain_text("@anna.knits")
    expect(creators).to_contain_text("ANNA15")
    expect(creators).to_contain_text("KNITS is taken; try KNITS1, KNITS2")
    anna_row = creators.get_by_role("row").filter(has_text="@anna.knits")
    expect(anna_row.get_by_role("cell").nth(3)).to_have_text("42")  # clicks
    expect(anna_row.get_by_role("cell").nth(4)).to_have_text("2")  # orders in the last 30 days
    expect(page.get_by_text("Attributed revenue")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin.png"), full_page=True)
    # when the merchant approves anna's payout
    page.get_by_role("button", name="Approve payout to @anna.knits").click()
    # then
    expect(page.get_by_role("status")).to_have_text("Payout approved.")
    expect(page.get_by_role("button", name="Mark paid")).to_be_visible()
    with app.app_context():
        db = get_db(app).new_session()
        statuses = db.scalars(select(Payout.status).order_by(Payout.id)).all()
        db.close()
    assert statuses == ["approved"]
    page.close()


def test_creator_page_shows_earnings(server: tuple[str, Seeded, Any], browser: Any) -> None:
    from playwright.sync_api import expect

    base_url, seeded, _app = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base_url}/creator/{seeded.portal_token}")
    expect(page.get_by_role("heading", name="Hi Anna Berg")).to_be_visible()
    earnings = page.get_by_role("region", name="Earnings")
    # 12% of the orders of 12 and 3 days ago are held; the 40-day-old one is in the payout
    expect(earnings).to_contain_text("HeldUSD 21.60")
    expect(earnings).to_contain_text("In payoutUSD 10.68")
    expect(page.get_by_text("Discount code ANNA15 was used at checkout").first).to_be_visible()
    expect(page.get_by_role("heading", name="Statement")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "creator.png"), full_page=True)
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{base_url}/creator/{seeded.portal_token}")
    phone.screenshot(path=str(ARTIFACTS / "creator-phone.png"), full_page=True)
    phone.close()
    page.close()
