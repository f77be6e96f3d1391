"""Fixtures for referral links: a sandbox shop with a creator, a campaign and an active code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.db import EXTENSION_KEY, Database
from plugin.extensions import credentials
from plugin.models import Campaign, Click, Creator, DiscountCode, ReferralLink, Shop
from plugin.services.links import create_link
from plugin.services.shops import create_or_reinstall_shop
from plugin.tenancy import Tenant

BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
WEBHOOK_SECRET = "sandbox-webhook-secret"
# Nothing listens on port 1: connecting fails at once, like a database that is down.
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/test"


@dataclass(frozen=True)
class Store:
    shop: Shop
    creator: Creator
    campaign: Campaign
    code: DiscountCode


def make_store(
    session: Session, domain: str = "mugs.example", platform: str = "sandbox", handle: str = "ava"
) -> Store:
    shop = create_or_reinstall_shop(
        session,
        credentials(),
        platform=platform,
        domain=domain,
        credentials={"webhook_secret": WEBHOOK_SECRET, "access_token": "shpat_test"},
    )
    tenant = Tenant(session, shop.id)
    creator = tenant.add(Creator(handle=handle, name=handle.title()))
    campaign = tenant.add(Campaign(name="Summer Drop!", format="live_drop"))
    session.flush()
    code = tenant.add(
        DiscountCode(
            creator_id=creator.id,
            code=f"{handle.upper()}10",
            code_normalized=f"{handle}10",
            status="active",
        )
    )
    session.flush()
    return Store(shop, creator, campaign, code)


@pytest.fixture
def store(session: Session) -> Store:
    created = make_store(session)
    session.commit()
    return created


@pytest.fixture
def link(session: Session, store: Store) -> ReferralLink:
    created = create_link(
        session,
        store.shop.id,
        store.creator.id,
        target_path="/products/mug",
        campaign_id=store.campaign.id,
        discount_code_id=store.code.id,
    )
    session.commit()
    return created


@pytest.fixture
def follow(client: FlaskClient) -> Callable[..., object]:
    """GET a referral link as a phone browser (or with the given headers)."""

    def get(slug: str, *, method: str = "GET", **headers: str) -> object:
        headers.setdefault("User-Agent", BROWSER)
        return client.open(f"/r/{slug}", method=method, headers=headers)

    return get


def click_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Click)) or 0)


class Outage:
    """Switches the app between its real database and one that cannot be reached."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.real = app.extensions[EXTENSION_KEY]
        self.down = Database(UNREACHABLE_DATABASE)

    def start(self) -> None:
        self.app.extensions[EXTENSION_KEY] = self.down

    def end(self) -> None:
        self.app.extensions[EXTENSION_KEY] = self.real


@pytest.fixture
def outage(app: Flask) -> Iterator[Outage]:
    controller = Outage(app)
    yield controller
    controller.end()
    controller.down.dispose()
