"""Page helpers for the carousel's browser tests (tests/ugc/test_browser.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from playwright.sync_api import Browser, Page
from sqlalchemy import func, select

from plugin.db import get_db
from plugin.models.ugc import UgcWidgetEvent


@dataclass
class Live:
    app: Flask
    base: str

    def page_url(self, public_key: str, product: str = "1001") -> str:
        return f"{self.base}/demo/shop/{public_key}/products/{product}"


@dataclass
class Watched:
    page: Page
    problems: list[str]


@contextmanager
def watched_page(browser: Browser) -> Iterator[Watched]:
    """A page that records console errors (CSP refusals) and any dialog (alert = script ran)."""
    context = browser.new_context(viewport={"width": 1200, "height": 1700})
    page = context.new_page()
    problems: list[str] = []

    def console(msg: Any) -> None:
        # The browser's own favicon probe is not the page's doing.
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            problems.append(msg.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))

    def dialog(d: Any) -> None:
        problems.append(f"dialog: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    yield Watched(page, problems)
    context.close()


def slides(page: Page) -> list[str]:
    page.locator("tastemaker-ugc .tm[data-complete]").wait_for()  # every slide appended
    return page.locator("tastemaker-ugc .handle").all_inner_texts()


def wait_for_images(page: Page) -> None:
    """Every image in view has loaded (lazy ones scrolled aside may wait)."""
    page.wait_for_function(
        """() => [...document.querySelector('tastemaker-ugc').shadowRoot.querySelectorAll('img')]
            .filter(i => i.getBoundingClientRect().left < innerWidth)
            .every(i => i.complete && i.naturalWidth > 0)"""
    )


def in_shadow(page: Page, script: str) -> Any:
    return page.evaluate(
        f"() => {{ const root = document.querySelector('tastemaker-ugc').shadowRoot; {script} }}"
    )


def wait_in_shadow(page: Page, expression: str) -> None:
    """Wait until an expression over the carousel's shadow `root` is truthy."""
    page.wait_for_function(
        f"() => {{ const root = document.querySelector('tastemaker-ugc').shadowRoot; "
        f"return {expression}; }}"
    )


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def count_events(live: Live, kind: str) -> int:
    with get_db(live.app).transaction() as session:
        query = select(func.count()).select_from(UgcWidgetEvent).where(UgcWidgetEvent.kind == kind)
        return int(session.scalar(query) or 0)


def count_events_reaching(live: Live, kind: str, target: int, timeout: float = 10.0) -> int:
    """The event count once it reaches `target`, or the last count seen when time runs out."""
    deadline = time.monotonic() + timeout
    count = count_events(live, kind)
    while count < target and time.monotonic() <= deadline:
        time.sleep(0.05)
        count = count_events(live, kind)
    return count
