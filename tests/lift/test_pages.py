"""The lift-test pages: plan with the form, confirm, launch; the result page in Chromium with
zero console errors and CSP violations, its chart and the chart's text equivalent."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from plugin import create_app
from plugin.db import get_db
from plugin.demo.lift import seed_lift_test
from plugin.demo.lift_store import PROMOTED, OrderWriter, simulate_sales, write_sales
from plugin.migrate import upgrade
from plugin.models import Agreement, Creator, LiftTest, utcnow
from plugin.services import lift as service
from plugin.services.lift_results import lift_result
from plugin.services.shops import issue_api_key
from tests.admin.factories import make_shop
from tests.admin.signin import sign_in_with_key
from tests.conftest import make_settings
from tests.lift.conftest import Campaign

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH = datetime(2026, 3, 2, tzinfo=UTC)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_plan_confirm_and_launch_from_the_pages(
    client: FlaskClient, session: Session, campaign: Campaign
) -> None:
    # given a signed-in merchant
    _, key = issue_api_key(session, campaign.store.shop.id, label="pages")
    session.commit()
    sign_in_with_key(client, key)
    page = client.get("/admin/lift-tests").get_data(as_text=True)
    assert '<a href="/admin/lift-tests" aria-current="page">Lift tests</a>' in page
    assert "Observational baseline (not randomized)" in page
    # when the merchant plans a holdout test with a bad share, then a good one
    form = {
        "csrf_token": _csrf(page),
        "campaign_id": str(campaign.store.campaign.id),
        "design": "holdout",
        "holdout_percent": "80",
    }
    refused = client.post("/admin/lift-tests", data=form, follow_redirects=True)
    assert "Holdout bps must be between 100 and 5000." in refused.get_data(as_text=True)
    form["holdout_percent"] = "10"
    planned = client.post("/admin/lift-tests", data=form)
    assert planned.status_code == 302
    detail = client.get(planned.headers["Location"]).get_data(as_text=True)
    assert "Link holdout (randomized)" in detail
    assert "How much it can detect" in detail
    # then launching asks for confirmation first, and only the POST launches
    test = session.query(LiftTest).one()
    confirm = client.get(f"/admin/lift-tests/{test.id}/launch").get_data(as_text=True)
    assert "cannot be changed afterwards" in confirm
    session.refresh(test)
    assert test.status == "draft"
    launched = client.post(
        f"/admin/lift-tests/{test.id}/launch",
        data={"csrf_token": _csrf(confirm)},
        follow_redirects=True,
    )
    assert "Launched. The randomization is recorded" in launched.get_data(as_text=True)
    session.refresh(test)
    assert test.status == "running"


def test_actions_need_the_csrf_token(
    client: FlaskClient, session: Session, campaign: Campaign
) -> None:
    _, key = issue_api_key(session, campaign.store.shop.id, label="pages")
    session.commit()
    sign_in_with_key(client, key)
    response = client.post(
        "/admin/lift-tests",
        data={"campaign_id": str(campaign.store.campaign.id), "design": "holdout"},
    )
    assert response.status_code == 400  # refused by the shared CSRF check
    assert session.query(LiftTest).count() == 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, int]]:
    tmp = tmp_path_factory.mktemp("lift-browser")
    database_url = f"sqlite:///{tmp / 'lift.sqlite3'}"
    upgrade(database_url)
    settings = make_settings(tmp, database_url=database_url)
    app = create_app(settings)
    with app.app_context():
        session = get_db(app).new_session()
        shop = make_shop(session, "glow.example", name="Glow")
        _, key = issue_api_key(session, shop.id, label="browser")
        test = seed_lift_test(session, shop, utcnow())
        session.commit()
        test_id = test.id
        session.close()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", key, test_id
    http.shutdown()
    thread.join(timeout=10)
    get_db(app).dispose()


@pytest.mark.browser
def test_the_result_page_in_a_browser(server: tuple[str, str, int]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base_url, key, test_id = server
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda message: _note(problems, message))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{base_url}/admin")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        problems.clear()  # only the lift pages are under test here
        page.goto(f"{base_url}/admin/lift-tests/{test_id}")
        expect(page.get_by_role("heading", name="Result so far")).to_be_visible()
        expect(
            page.get_by_role("img", name=re.compile("actual and counterfactual"))
        ).to_be_visible()
        expect(page.locator(".lift-sentence").first).to_contain_text("of these")
        expect(page.locator(".lift-share")).to_contain_text(
            "Share of attributed orders that were extra: "
        )
        expect(page.locator(".lift-share")).to_contain_text(
            "This range comes from the lottery alone: your sales under the schedule it actually "
            "drew, compared with 1999 other schedules it could have drawn"
        )
        expect(page.locator(".lift-share")).to_contain_text("Model-based figure, for comparison: ")
        expect(page.get_by_role("cell", name="Nina", exact=True).first).to_be_visible()
        page.get_by_text("The chart's numbers as a table").click()
        expect(page.get_by_role("columnheader", name="Counterfactual")).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "lift-test.png"), full_page=True)
        page.goto(f"{base_url}/admin/lift-tests")
        expect(page.get_by_role("heading", name="Plan a lift test")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "lift-tests.png"), full_page=True)
        browser.close()
    assert problems == []


def _note(problems: list[str], message: Any) -> None:
    # The browser asks for /favicon.ico on its own; the app has none (not this page's doing).
    if message.location.get("url", "").endswith("/favicon.ico"):
        return
    if message.type in ("error", "warning"):
        problems.append(message.text)


def _staggered_with_sales(
    session: Session, campaign: Campaign, waves: int, more_creators: int = 0, wave_days: int = 7
) -> LiftTest:
    tenant = campaign.tenant
    for number in range(more_creators):
        creator = tenant.add(Creator(handle=f"extra{number}", name=f"Extra {number}"))
        session.flush()
        tenant.add(Agreement(creator_id=creator.id, campaign_id=campaign.store.campaign.id))
    session.flush()
    test = service.create_test(
        tenant,
        {
            "campaign_id": campaign.store.campaign.id,
            "design": "staggered",
            "waves": waves,
            "wave_days": wave_days,
            "product_ids": list(PROMOTED),
            "seed": 5,
        },
    )
    service.launch(tenant, test, now=LAUNCH)
    first = LAUNCH - timedelta(days=28)
    go_live = {
        row.creator_id: (row.starts_at - first).days for row in service.assignments(tenant, test.id)
    }
    sales, _ = simulate_sales(
        np.random.default_rng(8),
        first.date(),
        28 + max(28, waves * wave_days),
        go_live,
        0.6,
        baseline=20,
        reach_share=0.6,
    )
    write_sales(
        OrderWriter(session, campaign.store.shop.id),
        np.random.default_rng(9),
        first,
        sales,
        campaign.store.campaign.id,
    )
    session.commit()
    return test


def test_the_result_page_shows_the_randomization_headline_and_the_did_beside_it(
    client: FlaskClient, session: Session, campaign: Campaign
) -> None:
    # given a staggered test of 8 creators in 4 waves, with its sales
    test = _staggered_with_sales(session, campaign, waves=4, more_creators=4)
    _, key = issue_api_key(session, campaign.store.shop.id, label="pages")
    session.commit()
    sign_in_with_key(client, key)
    # when
    page = client.get(f"/admin/lift-tests/{test.id}").get_data(as_text=True)
    # then the headline is the randomization interval, and it covers the true share
    result = lift_result(session, test, now=LAUNCH + timedelta(days=28))
    share = result.incremental_share
    assert share is not None
    assert share.bounded
    assert share.covers(0.6)
    assert result.randomization == {
        "schedules": 2000,
        "smallest_p_value": pytest.approx(1 / 2000),
        "interval_possible": True,
    }
    assert (
        "Share of attributed orders that were extra: <strong>52% (95%: -70% to 342%)</strong>. "
        "This range comes from the lottery alone: your sales under the schedule it actually "
        "drew, compared with 1999 other schedules it could have drawn (re-drawn the same way "
        "from the test's seed); no model of your sales."
    ) in page
    # and the model-based difference in differences beside it, labelled as such
    assert (
        "Model-based figure, for comparison: 45% (95%: 14% to 76%) (difference in differences"
    ) in page
    assert "Too thin to say anything" not in page
    assert "counterfactual from the model-based figure" not in page


def test_the_result_page_says_when_the_lottery_is_too_small_for_a_95_percent_interval(
    client: FlaskClient, session: Session, campaign: Campaign
) -> None:
    # given a staggered test of the campaign's 4 creators in 2 waves over 2 days: 18 schedules
    test = _staggered_with_sales(session, campaign, waves=2, wave_days=1)
    _, key = issue_api_key(session, campaign.store.shop.id, label="pages")
    session.commit()
    sign_in_with_key(client, key)
    # when
    page = client.get(f"/admin/lift-tests/{test.id}").get_data(as_text=True)
    # then the headline says it cannot bound the share, and a warning says why
    result = lift_result(session, test, now=LAUNCH + timedelta(days=28))
    share = result.incremental_share
    assert share is not None
    assert not share.bounded
    assert result.randomization is not None
    assert not result.randomization["interval_possible"]
    assert result.randomization["smallest_p_value"] > 0.025
    headline = "Share of attributed orders that were extra: <strong>too thin to say yet</strong>."
    assert headline in page
    warning = (
        "Too thin to say anything: with 4 creators in 2 waves the lottery has only 18 possible "
        "schedules, too few for a 95 % range (the smallest chance the test can report is 6%, "
        "above the 2.5 % each side needs). Add creators, waves or days to a future test."
    )
    assert warning in result.warnings
    assert warning.replace("'", "&#39;") in page
    assert "The data cannot yet say how many of these" in page
    # while the model-based figure is still shown, labelled
    assert result.model_based_share is not None
    assert result.model_based_share.bounded
    assert "Model-based figure, for comparison: " in page
    assert (
        "orders a day of the promoted products (counterfactual from the model-based figure: "
        "the lottery cannot say yet)"
    ) in page


def test_a_shop_without_campaigns_is_told_to_create_one_instead_of_an_empty_form(
    client: FlaskClient, session: Session
) -> None:
    # given a signed-in merchant whose shop has no campaign
    shop = make_shop(session, "no-campaigns.example")
    _, key = issue_api_key(session, shop.id, label="pages")
    session.commit()
    sign_in_with_key(client, key)
    # when the merchant opens the lift tests
    page = client.get("/admin/lift-tests").get_data(as_text=True)
    # then the page says what to do first, with no form whose campaign list is empty
    assert "A lift test measures one campaign, and this shop has none yet." in page
    assert '<a href="/admin/campaigns">Create a campaign</a>' in page
    assert 'id="campaign_id"' not in page
