"""Rollups through a shop's life: redaction, erasure, raw click retention, the rebuild command,
timezone boundaries, and concurrent writers on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from plugin.cli import main
from plugin.models import Click, ClickDay, MetricState, OrderDay, Shop, utcnow
from plugin.services import metrics
from plugin.services.click_flush import store_clicks
from plugin.services.click_retention import DEFAULT_DAYS, prune_shop_clicks, retention_days
from plugin.services.ledger import add_adjustment
from plugin.services.metrics_rebuild import rebuild_shop
from plugin.services.metrics_series import daily_series
from plugin.services.orders import apply_order
from plugin.services.privacy import CustomerRef, redact_customer, redact_shop
from tests.engine.factories import (
    make_agreement,
    make_code,
    make_creator,
    make_link,
    make_shop,
    order,
)
from tests.metrics.conftest import same_transaction

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _click(link: Any, uid: str, at: datetime, visitor: str) -> dict[str, Any]:
    return {
        "click_uid": uid,
        "shop_id": link.shop_id,
        "link_id": link.id,
        "creator_id": link.creator_id,
        "occurred_at": at.timestamp(),
        "visitor_hash": visitor,
        "referrer_host": None,
    }


def _summary(session: Session, shop_id: int, start: datetime, end: datetime) -> Any:
    return metrics.shop_summary(session, shop_id, start=start, end=end).attributed


def test_a_day_is_the_shops_local_day(session: Session) -> None:
    # given: a shop in Auckland (UTC+12 in June) and a click at 13:00 UTC on 1 June
    shop = make_shop(session, timezone="Pacific/Auckland")
    link = make_link(session, shop, make_creator(session, shop))
    store_clicks(session, [_click(link, "tz1", datetime(2026, 6, 1, 13, tzinfo=UTC), "v")])
    # then: it is a click of 2 June there
    points = daily_series(session, shop.id, start=date(2026, 6, 1), end=date(2026, 6, 3))
    assert [(p.day, p.clicks, p.visitors) for p in points] == [
        (date(2026, 6, 1), 0, 0),
        (date(2026, 6, 2), 1, 1),
    ]
    # and a period asked in UTC is widened to the local days it touches
    perf = _summary(session, shop.id, datetime(2026, 6, 1, 13, tzinfo=UTC), NOW + timedelta(days=1))
    assert perf.start == datetime(2026, 6, 1, 12, tzinfo=UTC)  # 2 June 00:00 in Auckland
    assert perf.clicks == 1


def test_redacting_a_customer_forgets_their_visits(session: Session) -> None:
    # given: a click-attributed order whose click is the only visit of that visitor
    shop = make_shop(session)
    alice = make_creator(session, shop)
    make_agreement(session, shop, alice)
    link = make_link(session, shop, alice)
    at = NOW - timedelta(hours=2)
    store_clicks(
        session,
        [_click(link, "keep1", at, "someone-else"), _click(link, "gone1", at, "the-customer")],
    )
    apply_order(
        session, shop, order(created_at=at, updated_at=at, click_id="gone1", customer_id="42")
    )
    assert _summary(session, shop.id, at, NOW).unique_visitors == 2
    # when
    redact_customer(session, shop.id, CustomerRef(customer_id="42"))
    # then: the click still counts, the visitor no longer does, and the order keeps its money
    after = _summary(session, shop.id, at, NOW)
    assert (after.clicks, after.unique_visitors, after.click_orders) == (2, 1, 1)


def test_erasing_a_shop_drops_its_rollups(session: Session) -> None:
    # given
    shop = make_shop(session)
    alice = make_creator(session, shop)
    make_code(session, shop, alice, "ALICE10", agreement=make_agreement(session, shop, alice))
    store_clicks(session, [_click(make_link(session, shop, alice), "e1", NOW, "v")])
    apply_order(session, shop, order(created_at=NOW, updated_at=NOW, discount_codes=("ALICE10",)))
    session.commit()  # the order's rollups are settled as its transaction commits
    assert session.scalar(select(func.count()).where(OrderDay.shop_id == shop.id)) == 1
    # when
    redact_shop(session, shop.id, keep_event_id=None, export_root=None)
    session.flush()
    # then
    for table in (OrderDay, ClickDay):
        assert session.scalar(select(func.count()).select_from(table)) == 0


def test_pruned_raw_clicks_keep_their_history_in_the_rollups(session: Session) -> None:
    # given: clicks 500 and 10 days old, a shop keeping raw clicks the default 400 days
    shop = make_shop(session, attribution_window_days=30)
    link = make_link(session, shop, make_creator(session, shop))
    old, recent = NOW - timedelta(days=500), NOW - timedelta(days=10)
    store_clicks(session, [_click(link, "old1", old, "a"), _click(link, "old2", old, "b")])
    store_clicks(session, [_click(link, "new1", recent, "a")])
    history = _summary(session, shop.id, old - timedelta(days=1), NOW)
    # when
    pruned = prune_shop_clicks(same_transaction(session), shop.id, NOW)
    # then: the raw rows are gone, the answer is not
    assert pruned == 2
    assert session.scalars(select(Click.click_uid)).all() == ["new1"]
    assert _summary(session, shop.id, old - timedelta(days=1), NOW) == history
    assert (history.clicks, history.unique_visitors) == (3, 2)
    # and a rebuild keeps the click cells of pruned days instead of emptying them
    state = session.get(MetricState, shop.id)
    assert state is not None
    assert state.clicks_pruned_before == (NOW - timedelta(days=DEFAULT_DAYS)).date()
    rebuild_shop(same_transaction(session), shop.id, restart=True)
    assert _summary(session, shop.id, old - timedelta(days=1), NOW) == history


def test_retention_never_drops_clicks_an_order_could_still_claim(session: Session) -> None:
    shop = make_shop(session, attribution_window_days=60, settings={"click_retention_days": 3})
    assert retention_days(shop) == 67
    shop.settings = {"click_retention_days": "a lot"}
    assert retention_days(shop) == DEFAULT_DAYS


def test_metrics_rebuild_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a database whose rollups were lost
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("TASTEMAKER_DATABASE_URL", database)
    monkeypatch.setenv("TASTEMAKER_INSTANCE_DIR", str(tmp_path))
    assert main(["db", "upgrade"]) == 0
    from plugin.db import make_engine

    engine = make_engine(database)
    with Session(engine) as session:
        shop = make_shop(session)
        link = make_link(session, shop, make_creator(session, shop))
        store_clicks(session, [_click(link, "cli1", NOW, "v"), _click(link, "cli2", NOW, "w")])
        session.execute(delete(ClickDay))
        session.commit()
        shop_id = shop.id
    # when
    assert main(["metrics", "rebuild", "--shop", str(shop_id)]) == 0
    # then
    with Session(engine) as session:
        assert session.scalar(select(func.sum(ClickDay.clicks))) == 2
    assert main(["metrics", "rebuild", "--shop", "999"]) == 1
    engine.dispose()


@pytest.mark.postgres
def test_concurrent_flushes_and_a_rebuild_lose_nothing(postgres_engine: Engine) -> None:
    # given: a committed shop with one link
    factory = sessionmaker(bind=postgres_engine, expire_on_commit=False)
    with factory() as session:
        shop = make_shop(session)
        link = make_link(session, shop, make_creator(session, shop))
        session.commit()
    try:
        batches = [
            [_click(link, f"c{n}-{i}", NOW, f"visitor{(n * 37 + i) % 300}") for i in range(50)]
            for n in range(8)
        ]

        def flush(batch: list[dict[str, Any]]) -> Callable[[Session], Any]:
            return lambda session: store_clicks(session, batch)

        def rebuild(session: Session) -> None:
            session.close()
            rebuild_shop(lambda: factory.begin(), shop.id, restart=True)

        # when: eight flushes into the same cell and a rebuild, all at once
        _together(factory, [flush(batch) for batch in batches] + [rebuild])
        # then: the cell holds every click and every visitor, as the raw rows say
        with factory() as session:
            cell = _summary(session, shop.id, NOW - timedelta(hours=1), NOW)
            raw = metrics.shop_summary(
                session, shop.id, start=NOW - timedelta(hours=1), end=NOW, source="raw"
            ).attributed
        assert (cell.clicks, raw.clicks, raw.unique_visitors) == (400, 400, 300)
        assert abs(cell.unique_visitors - 300) <= 6  # the HyperLogLog's 2 %
    finally:
        with factory() as session:
            session.execute(delete(Shop).where(Shop.id == shop.id))
            session.commit()


def _together(factory: Any, work: list[Callable[[Session], Any]]) -> None:
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[Session], Any]) -> None:
        try:
            with factory() as session:
                barrier.wait(timeout=10)
                job(session)
                session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_an_adjustment_alone_shows_as_a_credit_not_a_negative_cac(session: Session) -> None:
    # given: a creator with one paid order (a new customer) and a -10.00 adjustment, no commission
    now = utcnow()  # an adjustment is dated when it is posted
    shop = make_shop(session)
    alice = make_creator(session, shop)
    make_code(session, shop, alice, "ALICE10")  # a code without an agreement: no commission
    apply_order(
        session,
        shop,
        order(created_at=now, updated_at=now, discount_codes=("ALICE10",), is_first_order=True),
    )
    add_adjustment(session, shop.id, alice.id, -1000, "goodwill credit", "adj-1")
    # when
    (row,) = metrics.creator_metrics(session, shop.id, start=now - timedelta(days=1), end=now)
    # then
    performance = row.performance
    assert (performance.orders, performance.code_orders, performance.new_customers) == (1, 1, 1)
    assert (performance.spend_minor, performance.spend.adjustment_minor) == (-1000, -1000)
    assert (performance.cac_minor, performance.roi_bps) == (None, None)
    assert set(performance.undefined) == {"cac_minor", "roi_bps", "conversion_rate_bps"}
    assert "net credit" in performance.undefined["cac_minor"]


def test_clicks_in_the_hour_a_dst_change_repeats_at_midnight_count_on_the_day_they_show(
    session: Session,
) -> None:
    # given: a shop in Santiago, where on 5 April 2026 midnight (-03) turns back to 23:00 (-04),
    # and clicks at 23:30 before the change, 23:30 again after it, and 00:30 on the 5th
    shop = make_shop(session, timezone="America/Santiago")
    link = make_link(session, shop, make_creator(session, shop))
    moments = [datetime(2026, 4, 5, hour, 30, tzinfo=UTC) for hour in (2, 3, 4)]
    # when they are stored in one batch
    store_clicks(session, [_click(link, f"dst{n}", at, "v") for n, at in enumerate(moments)])
    # then: the repeated hour belongs to the 4th
    cells = session.execute(
        select(ClickDay.day, ClickDay.clicks).where(ClickDay.link_id == link.id)
    ).all()
    assert sorted(cells) == [(date(2026, 4, 4), 2), (date(2026, 4, 5), 1)]


def _order_cells(session: Session, shop_id: int) -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in session.execute(
            select(OrderDay.creator_id, OrderDay.orders, OrderDay.gross_revenue_minor).where(
                OrderDay.shop_id == shop_id
            )
        )
    ]


def test_an_order_read_inside_a_savepoint_that_rolls_back_still_counts(session: Session) -> None:
    # given: an order applied, then read (so its rollups written) inside a savepoint rolled back
    shop = make_shop(session)
    alice = make_creator(session, shop)
    make_code(session, shop, alice, "ALICE10", agreement=make_agreement(session, shop, alice))
    apply_order(session, shop, order(created_at=NOW, updated_at=NOW, discount_codes=("ALICE10",)))
    savepoint = session.begin_nested()
    assert _summary(session, shop.id, NOW - timedelta(days=1), NOW).orders == 1
    savepoint.rollback()
    # when the outermost transaction commits
    session.commit()
    # then the order, applied outside the savepoint, counts once
    assert _order_cells(session, shop.id) == [(alice.id, 1, 10_000)]
    rollups = _summary(session, shop.id, NOW - timedelta(days=1), NOW)
    assert rollups.orders == 1


def test_an_order_applied_in_a_savepoint_that_commits_is_settled_by_the_outermost_commit(
    session: Session,
) -> None:
    # given: two orders, each applied in a savepoint of its own (as a webhook drain does)
    shop = make_shop(session)
    alice = make_creator(session, shop)
    make_code(session, shop, alice, "ALICE10", agreement=make_agreement(session, shop, alice))
    for number in (1, 2):
        with session.begin_nested():
            payload = order(platform_order_id=number, created_at=NOW, updated_at=NOW)
            apply_order(session, shop, replace(payload, discount_codes=("ALICE10",)))
    # then: the savepoints' commits wrote no rollup yet
    assert _order_cells(session, shop.id) == []
    # when
    session.commit()
    # then: one settle wrote both
    assert _order_cells(session, shop.id) == [(alice.id, 2, 20_000)]
