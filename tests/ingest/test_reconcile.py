"""Reconciliation glue: which shops are polled, from when, and what connector errors do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from connectors.base import (
    CredentialsRevoked,
    OrderPage,
    RetryableConnectorError,
    ShopContext,
)
from plugin.extensions import connectors
from plugin.ingest.reconcile import SYNC_OVERLAP
from plugin.models import Shop, utcnow
from plugin.services.shops import mark_uninstalled
from tests.ingest.conftest import enqueued, make_sandbox_shop
from workers.jobs.periodic import reconcile_all_shops, reconcile_shop
from workers.registry import RetryableJobError

Pages = Callable[[ShopContext, datetime, str | None], OrderPage]


@pytest.fixture
def store_pages(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Callable[[Pages], list[Any]]:
    """Stand in for the store's order listing; returns the calls it received."""

    def install(pages: Pages) -> list[Any]:
        calls: list[Any] = []

        def listing(shop: ShopContext, since: datetime, cursor: str | None = None) -> OrderPage:
            calls.append((shop.shop_id, since, cursor))
            return pages(shop, since, cursor)

        monkeypatch.setattr(connectors(app).get("sandbox"), "orders_updated_since", listing)
        return calls

    return install


def test_reconcile_all_shops_enqueues_one_job_per_active_shop(app: Flask, session: Session) -> None:
    # given two active shops and an uninstalled one
    alpha = make_sandbox_shop(session, app, "alpha.sandbox.test", "a")
    beta = make_sandbox_shop(session, app, "beta.sandbox.test", "b")
    gone = make_sandbox_shop(session, app, "gone.sandbox.test", "c")
    mark_uninstalled(session, gone)
    session.commit()
    # when
    sent = reconcile_all_shops()
    # then
    assert sent == 2
    assert enqueued(app) == [
        ("workers.jobs.periodic.reconcile_shop", (alpha.id,)),
        ("workers.jobs.periodic.reconcile_shop", (beta.id,)),
    ]


def test_sync_follows_every_page_from_the_last_sync_and_then_advances_it(
    app: Flask, session: Session, store_pages: Callable[[Pages], list[Any]]
) -> None:
    # given a shop synced an hour ago, and a store with two (empty) pages of changes
    shop = make_sandbox_shop(session, app, "alpha.sandbox.test", "a")
    last = utcnow() - timedelta(hours=1)
    shop.last_synced_at = last
    session.commit()
    calls = store_pages(lambda _shop, _since, cursor: OrderPage((), None if cursor else "page-2"))
    before = utcnow()
    # when
    reconcile_shop(shop.id)
    # then both pages were read from just before the last sync
    assert calls == [(shop.id, last - SYNC_OVERLAP, None), (shop.id, last - SYNC_OVERLAP, "page-2")]
    session.expire_all()
    synced = session.get_one(Shop, shop.id).last_synced_at
    assert synced is not None
    assert before <= synced <= utcnow()


def test_first_sync_starts_at_install_time(
    app: Flask, session: Session, store_pages: Callable[[Pages], list[Any]]
) -> None:
    # given
    shop = make_sandbox_shop(session, app, "alpha.sandbox.test", "a")
    calls = store_pages(lambda _shop, _since, _cursor: OrderPage((), None))
    # when
    reconcile_shop(shop.id)
    # then
    assert shop.installed_at is not None
    assert [since for _id, since, _cursor in calls] == [shop.installed_at - SYNC_OVERLAP]


def test_transient_store_error_retries_without_advancing_the_sync(
    app: Flask, session: Session, store_pages: Callable[[Pages], list[Any]]
) -> None:
    # given
    shop = make_sandbox_shop(session, app, "alpha.sandbox.test", "a")

    def throttled(_shop: ShopContext, _since: datetime, _cursor: str | None) -> OrderPage:
        raise RetryableConnectorError("429 throttled", retry_after=2.0)

    store_pages(throttled)
    # when
    with pytest.raises(RetryableJobError) as raised:
        reconcile_shop(shop.id)
    # then
    assert raised.value.retry_after == 2.0
    session.expire_all()
    assert session.get_one(Shop, shop.id).last_synced_at is None


def test_revoked_credentials_mark_the_shop_for_reconnection_and_stop(
    app: Flask, session: Session, store_pages: Callable[[Pages], list[Any]]
) -> None:
    # given
    shop = make_sandbox_shop(session, app, "alpha.sandbox.test", "a")

    def revoked(_shop: ShopContext, _since: datetime, _cursor: str | None) -> OrderPage:
        raise CredentialsRevoked("401 invalid api key")

    store_pages(revoked)
    # when
    reconcile_shop(shop.id)
    # then
    session.expire_all()
    reloaded = session.get_one(Shop, shop.id)
    assert (reloaded.status, reloaded.last_synced_at) == ("needs_reconnect", None)


def test_inactive_or_missing_shops_are_not_synced(
    app: Flask, session: Session, store_pages: Callable[[Pages], list[Any]]
) -> None:
    # given
    shop = make_sandbox_shop(session, app, "alpha.sandbox.test", "a")
    mark_uninstalled(session, shop)
    session.commit()
    calls = store_pages(lambda _shop, _since, _cursor: OrderPage((), None))
    # when
    applied = (reconcile_shop(shop.id), reconcile_shop(shop.id + 999))
    # then
    assert applied == (0, 0)
    assert calls == []
