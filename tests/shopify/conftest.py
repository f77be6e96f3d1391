"""Shopify fixtures: a local Shopify (connectors.shopify.simulator) reached by the real connector.

The app under test is configured with the simulator as TASTEMAKER_SHOPIFY_BASE_URL and the test
API key and client secret the published HMAC vectors were computed with. The simulator and the
connector's rate-limit budget share a fake clock, so backoff is asserted, never slept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from connectors.base import ConnectorConfig, ShopContext
from connectors.shopify import ShopifyConnector
from connectors.shopify.graphql import ShopBudget
from connectors.shopify.oauth import TokenSet
from connectors.shopify.simulator import ShopifySimulator
from plugin.extensions import connectors, credentials
from plugin.models import Shop
from plugin.services.shops import create_or_reinstall_shop, shop_context
from plugin.settings import Settings
from tests.conftest import make_settings

# The framed-admin browser tests' module-scoped app and Chromium (see framed_admin.py).
from tests.shopify.framed_admin import browser, served  # noqa: F401

FIXTURES = Path(__file__).resolve().parent / "fixtures"
API_KEY = "test-shopify-api-key"
API_SECRET = "test-shopify-client-secret"
PUBLIC_URL = "https://tastemaker.test"
SHOP = "jsmith.myshopify.com"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / "shopify" / name).read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fixture_bytes(name))
    return data


def hmac_vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "hmac-test-vectors.json").read_bytes())
    return data


class FakeClock:
    """Monotonic time that only moves when a test (or a backoff sleep) moves it."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def simulator(clock: FakeClock) -> Iterator[ShopifySimulator]:
    with ShopifySimulator(
        API_KEY, API_SECRET, app_url=PUBLIC_URL, fixtures_dir=FIXTURES / "shopify", clock=clock
    ) as sim:
        yield sim


def connector_config(simulator: ShopifySimulator, **overrides: Any) -> ConnectorConfig:
    values: dict[str, Any] = {
        "public_url": PUBLIC_URL,
        "shopify_api_key": API_KEY,
        "shopify_api_secret": API_SECRET,
        "shopify_base_url_override": simulator.url,
        **overrides,
    }
    return ConnectorConfig(**values)


def use_clock(connector: ShopifyConnector, clock: FakeClock) -> ShopifyConnector:
    connector.graphql.budget = ShopBudget(clock)
    connector.graphql.sleep = clock.sleep
    return connector


@pytest.fixture
def connector(simulator: ShopifySimulator, clock: FakeClock) -> ShopifyConnector:
    return use_clock(ShopifyConnector(connector_config(simulator)), clock)


def context_for(simulator: ShopifySimulator, domain: str = SHOP, **token: Any) -> ShopContext:
    """A ShopContext holding a fresh expiring token minted by the simulator (no database)."""
    credentials = TokenSet.from_response(simulator.issue_token(domain, **token)).as_credentials()
    return ShopContext(
        shop_id=1, platform="shopify", domain=domain, currency="USD", credentials=credentials
    )


@pytest.fixture
def settings(tmp_path: Path, simulator: ShopifySimulator) -> Settings:
    return make_settings(tmp_path, public_url=PUBLIC_URL, shopify_base_url_override=simulator.url)


@pytest.fixture
def app_connector(app: Flask, clock: FakeClock) -> ShopifyConnector:
    connector = connectors(app).get("shopify")
    assert isinstance(connector, ShopifyConnector)
    return use_clock(connector, clock)


def install_shop(
    app: Flask,
    session: Session,
    simulator: ShopifySimulator,
    domain: str = SHOP,
    **token: Any,
) -> Shop:
    """A shop installed as the OAuth callback would leave it (tokens minted by the simulator)."""
    tokens = TokenSet.from_response(simulator.issue_token(domain, **token))
    shop = create_or_reinstall_shop(
        session,
        credentials(app),
        platform="shopify",
        domain=domain,
        credentials=tokens.as_credentials(),
        currency="USD",
    )
    session.commit()
    return shop


def stored_credentials(app: Flask, session: Session, shop_id: int) -> dict[str, Any]:
    shop = session.get(Shop, shop_id)
    assert shop is not None
    session.refresh(shop)
    return credentials(app).open(shop.credentials_encrypted)


def context_of(app: Flask, session: Session, shop: Shop) -> ShopContext:
    return shop_context(session, credentials(app), shop)
