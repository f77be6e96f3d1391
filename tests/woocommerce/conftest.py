"""WooCommerce fixtures: a simulated store on 127.0.0.1 reached through the real woocommerce.API.

The app is configured with the store's URL as TASTEMAKER_WOOCOMMERCE_BASE_URL. The store delivers
webhooks, pings and wc-auth key POSTs into the app's test client (`wire`), so they run through
the real routes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from connectors.base import ConnectorConfig, ShopContext
from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.simulator import Delivery, SimulatedStore, Transport
from connectors.woocommerce.stores import origin_domain
from plugin.extensions import credentials
from plugin.models import Shop
from plugin.services.shops import create_or_reinstall_shop, shop_context
from plugin.settings import Settings
from tests.conftest import make_settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PUBLIC_URL = "https://tastemaker.test"
WEBHOOK_URL = f"{PUBLIC_URL}/webhooks/woocommerce"
WEBHOOK_SECRET = "whsec-woo-0123456789abcdef"
TEST_VECTOR_SECRET = "test-wc-webhook-secret"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fixture_bytes(name))
    return data


def hmac_vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "hmac-test-vectors.json").read_bytes())
    return data


def recording_transport(status: int = 200) -> tuple[Transport, list[tuple[str, bytes]]]:
    sent: list[tuple[str, bytes]] = []

    def transport(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        sent.append((url, body))
        return status

    return transport, sent


def client_transport(client: FlaskClient) -> Transport:
    """Deliver to the app under test when the URL is ours; anything else is unreachable."""

    def transport(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != PUBLIC_URL:
            return 0
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return client.post(path, data=body, headers=dict(headers)).status_code

    return transport


@pytest.fixture
def store() -> Iterator[SimulatedStore]:
    recorder, _ = recording_transport()
    with SimulatedStore(transport=recorder) as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, store: SimulatedStore) -> Settings:
    return make_settings(tmp_path, public_url=PUBLIC_URL, woocommerce_base_url_override=store.url)


@pytest.fixture
def connector(store: SimulatedStore) -> WooCommerceConnector:
    return WooCommerceConnector(
        ConnectorConfig(
            public_url=PUBLIC_URL,
            woocommerce_base_url_override=store.url,
            extra={"woocommerce_request_interval": 0},
        )
    )


@pytest.fixture
def store_domain(store: SimulatedStore) -> str:
    return origin_domain(store.url)


@pytest.fixture
def saved_credentials() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def context(
    store: SimulatedStore, store_domain: str, saved_credentials: list[dict[str, Any]]
) -> ShopContext:
    """A connector-level shop: keys issued by the store, nothing in the database."""
    key = store.add_key()
    return ShopContext(
        shop_id=7,
        platform="woocommerce",
        domain=store_domain,
        currency="USD",
        credentials={
            "consumer_key": key.consumer_key,
            "consumer_secret": key.consumer_secret,
            "webhook_secret": WEBHOOK_SECRET,
        },
        save_credentials=saved_credentials.append,
    )


@pytest.fixture
def wire(store: SimulatedStore, client: FlaskClient) -> SimulatedStore:
    """The store delivering into the app under test."""
    store.transport = client_transport(client)
    return store


@pytest.fixture
def shop(session: Session, app: Flask, store: SimulatedStore, store_domain: str) -> Shop:
    """A connected WooCommerce shop (as the callback leaves it) whose keys the store knows."""
    key = store.add_key()
    shop = create_or_reinstall_shop(
        session,
        credentials(app),
        platform="woocommerce",
        domain=store_domain,
        credentials={
            "consumer_key": key.consumer_key,
            "consumer_secret": key.consumer_secret,
            "key_permissions": "read_write",
            "query_string_auth": False,
            "webhook_secret": WEBHOOK_SECRET,
        },
        currency="USD",
    )
    session.commit()
    return shop


def app_context_for(session: Session, app: Flask, shop: Shop) -> ShopContext:
    return shop_context(session, credentials(app), shop)


def statuses(deliveries: list[Delivery]) -> list[int]:
    return [delivery.status for delivery in deliveries]
