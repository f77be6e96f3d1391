"""The creator-side pages in headless Chromium: a creator applies, the merchant approves, the
welcome email is in the outbox, and the statement prints; no console errors, no CSP violations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.browser_seed import Seeded
from tests.admin.test_browser import ARTIFACTS, browser, server

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]


def test_apply_approve_outbox_and_statement_without_console_errors(
    server: tuple[str, Seeded, Any], browser: Any
) -> None:
    from playwright.sync_api import expect

    base_url, seeded, _app = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    watching = [True]

    def console(message: Any) -> None:
        # "Failed to load resource" is the browser's own favicon request, checked below.
        if watching[0] and message.type == "error" and "Failed to load" not in message.text:
            problems.append(f"{page.url}: {message.text}")

    def response(answer: Any) -> None:
        if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
            problems.append(f"{answer.url}: HTTP {answer.status}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", response)
    # a creator applies on the shop's public page
    page.goto(f"{base_url}/apply/pk_loom-and-thread.example")
    page.get_by_label("Your name").fill("Lena Park")
    page.get_by_label("Your email").fill("lena@example.com")
    page.get_by_label("Instagram").fill("@lena.daily")
    page.get_by_label("I have read and accept the program terms.").check()
    page.get_by_role("button", name="Send my application").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    # the merchant approves it
    watching[0] = False  # signing in lands on the dashboard, which is not part of this page set
    page.goto(f"{base_url}/admin")
    page.get_by_label("API key").fill(seeded.api_key)
    page.get_by_role("button", name="Sign in").click()
    watching[0] = True
    page.goto(f"{base_url}/admin/applications")
    expect(page.get_by_role("cell", name="Lena Park")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "applications.png"), full_page=True)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("is a creator now")
    # the welcome email waits in the outbox (no SMTP server configured)
    page.get_by_role("link", name="Outbox").click()
    expect(page.get_by_role("link", name="welcome to Loom & Thread")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "outbox.png"), full_page=True)
    # the statement of an existing creator, as the printable page
    page.goto(f"{base_url}/creator/{seeded.portal_token}/statement")
    expect(page.get_by_role("heading", name="Earnings statement")).to_be_visible()
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "statement-print.png"), full_page=True)
    assert problems == []
    page.close()
