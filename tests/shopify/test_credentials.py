"""Expiring tokens: refreshed in one place, under a row lock, persisted before use."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from connectors.base import CredentialsRevoked, DiscountCodeSpec
from connectors.shopify import ShopifyConnector
from connectors.shopify.oauth import TokenSet
from connectors.shopify.simulator import ShopifySimulator
from plugin.crypto import CredentialBox
from plugin.db import Database
from plugin.extensions import credentials
from plugin.models import Shop
from plugin.services.credentials import ensure_fresh_credentials
from plugin.services.shops import mark_uninstalled, new_public_key
from tests.conftest import POSTGRES_URL
from tests.shopify.conftest import (
    SHOP,
    connector_config,
    context_of,
    install_shop,
    stored_credentials,
)


def expiring_soon(app: Flask, session: Session, simulator: ShopifySimulator) -> Shop:
    """An installed shop whose access token expires in two minutes (inside the 5 min margin)."""
    return install_shop(app, session, simulator, expires_in=120)


def test_a_token_near_expiry_is_refreshed_and_persisted(
    app: Flask, session: Session, simulator: ShopifySimulator, app_connector: ShopifyConnector
) -> None:
    # given
    shop = expiring_soon(app, session, simulator)
    old = stored_credentials(app, session, shop.id)
    # when
    fresh = ensure_fresh_credentials(session, credentials(app), app_connector, shop.id)
    # then
    assert fresh["access_token"] != old["access_token"]
    assert stored_credentials(app, session, shop.id) == fresh
    assert len(simulator.calls_of("token:refresh", SHOP)) == 1
    # and a second caller finds it fresh: no second refresh
    assert ensure_fresh_credentials(session, credentials(app), app_connector, shop.id) == fresh
    assert len(simulator.calls_of("token:refresh", SHOP)) == 1


def test_a_fresh_token_is_left_alone(
    app: Flask, session: Session, simulator: ShopifySimulator, app_connector: ShopifyConnector
) -> None:
    shop = install_shop(app, session, simulator)
    stored = stored_credentials(app, session, shop.id)
    assert ensure_fresh_credentials(session, credentials(app), app_connector, shop.id) == stored
    assert simulator.calls == []


def test_a_refused_refresh_marks_the_shop_for_reconnecting(
    app: Flask, session: Session, simulator: ShopifySimulator, app_connector: ShopifyConnector
) -> None:
    shop = expiring_soon(app, session, simulator)
    simulator.revoke(SHOP)
    with pytest.raises(CredentialsRevoked):
        ensure_fresh_credentials(session, credentials(app), app_connector, shop.id)
    session.expire_all()
    assert session.get(Shop, shop.id).status == "needs_reconnect"  # type: ignore[union-attr]


def test_an_uninstalled_shop_is_never_refreshed(
    app: Flask, session: Session, simulator: ShopifySimulator, app_connector: ShopifyConnector
) -> None:
    shop = expiring_soon(app, session, simulator)
    mark_uninstalled(session, shop)
    session.commit()
    refresher = _StaleStored(app_connector)
    with pytest.raises(CredentialsRevoked, match="uninstalled"):
        ensure_fresh_credentials(session, credentials(app), refresher, shop.id)
    assert simulator.calls_of("token:refresh") == []


class _StaleStored:
    """Says "refresh" on the first read, as if the uninstall landed between read and lock."""

    def __init__(self, connector: ShopifyConnector) -> None:
        self.connector = connector
        self.first = True

    def credentials_need_refresh(self, credentials: Any, now: Any = None) -> bool:
        first, self.first = self.first, False
        return first or self.connector.credentials_need_refresh(credentials, now)

    def refresh_credentials(self, domain: str, credentials: Any, now: Any = None) -> Any:
        return self.connector.refresh_credentials(domain, credentials, now)


def test_a_stale_context_refreshes_through_the_locked_path(
    app: Flask, session: Session, simulator: ShopifySimulator, app_connector: ShopifyConnector
) -> None:
    # given a context built the ordinary way (plugin.services.shops) with a token about to expire
    shop = expiring_soon(app, session, simulator)
    context = context_of(app, session, shop)
    # when the connector is used with it
    app_connector.create_discount_code(
        context,
        DiscountCodeSpec(
            code="AVA15",
            title="Tastemaker @ava: AVA15",
            kind="percentage",
            value=1500,
            currency="USD",
            starts_at=datetime(2026, 6, 1, tzinfo=UTC),
        ),
    )
    # then it refreshed once, stored the result, and used the new token
    assert len(simulator.calls_of("token:refresh", SHOP)) == 1
    stored = stored_credentials(app, session, shop.id)
    assert stored["access_token"] != context.credentials["access_token"]
    assert "ava15" in simulator.shop(SHOP).codes


@pytest.mark.postgres
def test_two_jobs_racing_to_refresh_make_one_refresh_call(
    postgres_engine: Engine, simulator: ShopifySimulator
) -> None:
    # given a committed shop whose token is near expiry, in the real PostgreSQL schema
    schema = postgres_engine.info_schema  # type: ignore[attr-defined]
    database = Database(f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}")
    box = CredentialBox(None, fallback_secret="race-test")
    connector = ShopifyConnector(connector_config(simulator))
    tokens = TokenSet.from_response(simulator.issue_token(SHOP, expires_in=120))
    with database.transaction() as setup:
        shop = Shop(
            platform="shopify",
            domain=SHOP,
            public_key=new_public_key(),
            credentials_encrypted=box.seal(tokens.as_credentials()),
        )
        setup.add(shop)
    shop_id = shop.id
    pids: list[int] = []
    # Shopify answers the first refresh only once the other worker is queued on the row lock.
    simulator.before_token_grant = lambda _shop, grant: _wait_for_lock_waiter(postgres_engine, pids)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        session = database.new_session()
        try:
            pids.append(session.scalar(text("SELECT pg_backend_pid()")))  # type: ignore[arg-type]
            results.append(ensure_fresh_credentials(session, box, connector, shop_id))
        except BaseException as exc:
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        # then
        assert errors == []
        assert len(simulator.calls_of("token:refresh", SHOP)) == 1
        assert results[0] == results[1]
        assert results[0]["access_token"] != tokens.access_token
        with database.transaction() as check:
            stored = box.open(check.get(Shop, shop_id).credentials_encrypted)  # type: ignore[union-attr]
        assert stored == results[0]
    finally:
        with database.transaction() as cleanup:
            cleanup.execute(delete(Shop).where(Shop.id == shop_id))
        database.dispose()


def _wait_for_lock_waiter(engine: Engine, pids: list[int], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as probe:
        while time.monotonic() < deadline:
            waiting = probe.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE pid = ANY(:pids) AND wait_event_type = 'Lock'"
                ),
                {"pids": list(pids)},
            )
            probe.rollback()
            if waiting:
                return
            time.sleep(0.01)


def test_refresh_keeps_other_stored_keys(
    simulator: ShopifySimulator, connector: ShopifyConnector
) -> None:
    stored = {
        **TokenSet.from_response(simulator.issue_token(SHOP)).as_credentials(),
        "note": "kept",
    }
    refreshed = connector.refresh_credentials(SHOP, stored)
    assert refreshed["note"] == "kept"
    assert datetime.fromisoformat(refreshed["expires_at"]) > datetime.now(UTC) + timedelta(
        minutes=59
    )
