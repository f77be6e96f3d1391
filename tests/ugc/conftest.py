"""Two shops with API keys for UGC tests, and a controllable clock for the storefront cache."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from plugin.models import Shop, utcnow
from plugin.services.ugc_feed import FeedCache
from plugin.web.storefront import CACHE_KEY
from tests.ugc.factories import make_key, make_shop


@dataclass
class ShopKey:
    shop: Shop
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def shop_a(session: Session) -> ShopKey:
    shop = make_shop(session, "alpha.example")
    key = make_key(session, shop)
    session.commit()
    return ShopKey(shop, key)


@pytest.fixture
def shop_b(session: Session) -> ShopKey:
    shop = make_shop(session, "bravo.example")
    key = make_key(session, shop)
    session.commit()
    return ShopKey(shop, key)


class Clock:
    """Real time until a test sets it; then it stands still until moved."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or utcnow()

    def set(self, moment: datetime) -> None:
        self.fixed = moment

    def advance(self, delta: timedelta) -> None:
        self.fixed = self() + delta


@pytest.fixture
def clock(app: Flask) -> Clock:
    """The storefront cache's clock (it is also the feed's `now`), moved by hand in tests."""
    clock = Clock()
    app.extensions[CACHE_KEY] = FeedCache(clock=clock)
    return clock
