"""Property: whatever stream of clicks, orders, refunds, cancellations, deletions, flat fees,
adjustments and redactions arrives, in whatever order and however often, the metrics answered
from the rollups equal the metrics recomputed from the raw rows (exact for counts and money;
unique visitors within the HyperLogLog's 2 %, exact at these sizes), on PostgreSQL and SQLite,
for periods crossing the shop's local midnights, with and without creator/campaign filters.
Then a rebuild from the raw rows lands on the same rollups, and so does a rebuild interrupted
half-way and resumed.

Every write goes through the services the webhooks and the click flush use; the streams are
drawn from a seeded random generator (one seed per case, printed by pytest on failure).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain import hll
from plugin.models import Campaign, ClickDay, MetricState, OrderDay, Shop
from plugin.services import metrics
from plugin.services.click_flush import store_clicks
from plugin.services.ledger import add_adjustment, post_entry
from plugin.services.metrics_rebuild import rebuild_days, rebuild_shop
from plugin.services.metrics_series import daily_series
from plugin.services.orders import apply_order, apply_refund, delete_order
from plugin.services.privacy import CustomerRef, redact_customer
from plugin.services.rollups import settle_orders, zone_named
from tests.engine.factories import (
    make_agreement,
    make_code,
    make_creator,
    make_link,
    make_shop,
    order,
    refund,
)
from tests.metrics.conftest import same_transaction

DAY0 = datetime(2026, 3, 6, tzinfo=UTC)
ZONES = ("America/New_York", "Pacific/Auckland", "Asia/Kolkata", "UTC")


class World:
    """A shop with three creators (codes, links, one in a campaign) and a random stream."""

    def __init__(self, session: Session, rng: random.Random) -> None:
        self.session = session
        self.rng = rng
        self.shop = make_shop(session, timezone=rng.choice(ZONES), hold_days=0)
        self.campaign = Campaign(shop_id=self.shop.id, name="Drop", format="live_drop")
        session.add(self.campaign)
        session.flush()
        self.creators = [make_creator(session, self.shop, f"c{n}") for n in range(3)]
        self.codes = []
        self.links = []
        self.agreements = []
        for n, creator in enumerate(self.creators):
            campaign_id = self.campaign.id if n == 0 else None
            agreement = make_agreement(
                session, self.shop, creator, rate_bps=1000 + 250 * n, campaign_id=campaign_id
            )
            self.agreements.append(agreement)
            self.codes.append(
                make_code(session, self.shop, creator, f"CODE{n}", agreement=agreement).code
            )
            self.links.append(make_link(session, self.shop, creator, campaign_id=campaign_id))
        self.links.append(make_link(session, self.shop, self.creators[1]))  # always-on too
        self.click_uids: list[str] = []

    def moment(self) -> datetime:
        # Ten days, with a good share of the events within two hours of a UTC midnight, which
        # is a local midnight nowhere but UTC: day boundaries are exercised in every zone.
        day = DAY0 + timedelta(days=self.rng.randrange(10))
        if self.rng.random() < 0.4:
            return day + timedelta(minutes=self.rng.randrange(-120, 120))
        return day + timedelta(seconds=self.rng.randrange(86_400))

    def click_batches(self) -> list[list[dict[str, Any]]]:
        records = []
        for n in range(self.rng.randrange(20, 60)):
            link = self.rng.choice(self.links)
            uid = f"{self.shop.id:04d}{n:06d}{self.rng.randrange(10**9):012d}"[:32]
            self.click_uids.append(uid)
            records.append(
                {
                    "click_uid": uid,
                    "shop_id": self.shop.id,
                    "link_id": link.id,
                    "creator_id": link.creator_id,
                    "occurred_at": self.moment().timestamp(),
                    "visitor_hash": self.rng.choice(["", *(f"visitor{v}" for v in range(15))]),
                    "referrer_host": None,
                }
            )
        replays = self.rng.sample(records, k=len(records) // 5)  # a spool replayed after a crash
        stream = records + replays
        self.rng.shuffle(stream)
        return [stream[i : i + 7] for i in range(0, len(stream), 7)]

    def order_events(self, platform_order_id: int) -> list[tuple[str, Any]]:
        rng = self.rng
        placed = self.moment()
        how = rng.choice(["code", "click", "none"])
        base = order(
            platform_order_id=platform_order_id,
            order_number=f"#{platform_order_id}",
            created_at=placed,
            updated_at=placed,
            status=rng.choice(["paid", "paid", "pending"]),
            discount_codes=(rng.choice(self.codes),) if how == "code" else (),
            click_id=rng.choice(self.click_uids) if how == "click" and self.click_uids else None,
            customer_id=f"customer{rng.randrange(8)}",
            is_first_order=rng.choice([True, False, None]),
        )
        events: list[tuple[str, Any]] = [("order", base)]
        later = base
        if base.status == "pending":
            later = replace(base, status="paid", updated_at=placed + timedelta(hours=1))
            events.append(("order", later))
        for n in range(rng.choice([0, 0, 1, 2])):
            amount = rng.choice([1_000, 2_500, 10_000])
            when = placed + timedelta(days=rng.randrange(1, 40))  # refunds of old orders too
            events.append(
                (
                    "refund",
                    refund(
                        platform_order_id * 10 + n,
                        amount,
                        platform_order_id=platform_order_id,
                        at=when,
                    ),
                )
            )
        if rng.random() < 0.15:
            events.append(
                ("order", replace(later, status="cancelled", updated_at=placed + timedelta(days=2)))
            )
        if rng.random() < 0.05:
            events.append(("delete", platform_order_id))
        events += rng.sample(events, k=min(2, len(events)))  # duplicated deliveries
        return events

    def ledger_events(self) -> list[tuple[str, Any]]:
        events: list[tuple[str, Any]] = []
        for n in range(self.rng.randrange(1, 4)):
            index = self.rng.randrange(3)
            events.append(("fee", (index, n, self.moment())))
            amount = self.rng.choice([-1_000, 500, -250])
            events.append(("adjustment", (index, amount, f"{self.shop.id}-{n}")))
        return events

    def apply(self, kind: str, value: Any) -> None:
        shop: Shop = self.shop
        if kind == "clicks":
            store_clicks(self.session, value)
        elif kind == "order":
            apply_order(self.session, shop, value)
        elif kind == "refund":
            apply_refund(self.session, shop, value)
        elif kind == "delete":
            delete_order(self.session, shop, value)
        elif kind == "fee":
            index, n, when = value
            agreement = self.agreements[index]
            post_entry(
                self.session,
                shop.id,
                creator_id=agreement.creator_id,
                agreement_id=agreement.id,
                kind="flat_fee",
                amount_minor=15_000,
                currency=shop.currency,
                available_at=when,
                idempotency_key=f"flat_fee:agreement:{agreement.id}:{n}",
                created_at=when,
            )
        elif kind == "adjustment":
            index, amount, key = value
            add_adjustment(self.session, shop.id, self.creators[index].id, amount, "fix", key)
        elif kind == "redact":
            redact_customer(self.session, shop.id, CustomerRef(customer_id=value))
        self.session.flush()


def _run_stream(session: Session, rng: random.Random) -> World:
    world = World(session, rng)
    events: list[tuple[str, Any]] = [("clicks", batch) for batch in world.click_batches()]
    # Clicks first for half the runs, so click attribution has clicks to find; interleaved
    # (late clicks) for the other half.
    if rng.random() < 0.5:
        for kind, value in events:
            world.apply(kind, value)
        events = []
    for n in range(rng.randrange(15, 30)):
        events += world.order_events(9_000_000 + world.shop.id * 1000 + n)
    events += world.ledger_events()
    events.append(("redact", f"customer{rng.randrange(8)}"))
    rng.shuffle(events)
    for kind, value in events:
        world.apply(kind, value)
    return world


def _comparable(data: Any) -> Any:
    """The answer without what legitimately differs: the visitors estimate and its flag."""
    if isinstance(data, dict):
        return {
            key: _comparable(value)
            for key, value in data.items()
            if key not in ("unique_visitors", "unique_visitors_approximate")
        }
    if isinstance(data, list):
        return [_comparable(item) for item in data]
    return data


def _differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Where two answers differ, as readable paths (pytest's dict diff truncates)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return [
            found
            for key in sorted(left.keys() | right.keys())
            for found in _differences(left.get(key), right.get(key), f"{path}.{key}")
        ]
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            found
            for n, (a, b) in enumerate(zip(left, right, strict=True))
            for found in _differences(a, b, f"{path}[{n}]")
        ]
    return [] if left == right else [f"{path}: {left!r} != {right!r}"]


def _visitors(data: Any) -> list[int]:
    if isinstance(data, dict):
        found = [data["unique_visitors"]] if "unique_visitors" in data else []
        return found + [v for value in data.values() for v in _visitors(value)]
    if isinstance(data, list):
        return [v for item in data for v in _visitors(item)]
    return []


def _answers(session: Session, world: World, start: datetime, end: datetime, source: str) -> Any:
    shop_id = world.shop.id
    kw: dict[str, Any] = {"start": start, "end": end, "source": source}
    scoped = [
        {},
        {"creator_id": world.creators[0].id},
        {"campaign_id": world.campaign.id},
        {"creator_id": world.creators[1].id, "campaign_id": world.campaign.id},
    ]
    return {
        "summary": metrics.shop_summary(session, shop_id, **kw).to_dict(),
        "creators": [
            [row.to_dict() for row in metrics.creator_metrics(session, shop_id, **kw, **s)]
            for s in scoped
        ],
        "campaigns": [
            [row.to_dict() for row in metrics.campaign_metrics(session, shop_id, **kw, **s)]
            for s in scoped
        ],
        "uplift": metrics.uplift(session, shop_id, **kw).to_dict(),
    }


def _assert_rollups_equal_raw(session: Session, world: World, rng: random.Random) -> None:
    periods = [(DAY0 - timedelta(days=3), DAY0 + timedelta(days=60))]
    for _ in range(3):
        start = DAY0 + timedelta(hours=rng.randrange(-24, 24 * 10))
        periods.append((start, start + timedelta(hours=rng.randrange(1, 24 * 8))))
    for start, end in periods:
        from_rollups = _answers(session, world, start, end, "rollups")
        from_raw = _answers(session, world, start, end, "raw")
        differences = _differences(_comparable(from_rollups), _comparable(from_raw))
        assert not differences, f"{start} - {end}:\n" + "\n".join(differences)
        for estimated, exact in zip(_visitors(from_rollups), _visitors(from_raw), strict=True):
            assert abs(estimated - exact) <= max(1, exact * 0.02), (start, end)


def _assert_series_matches_raw(session: Session, world: World) -> None:
    zone = zone_named(world.shop.timezone)
    first = (DAY0 - timedelta(days=1)).astimezone(zone).date()
    points = daily_series(session, world.shop.id, start=first, end=first + timedelta(days=12))
    for point in points[::3]:
        start = datetime.combine(point.day, datetime.min.time(), zone)
        raw = metrics.shop_summary(
            session, world.shop.id, start=start, end=start + timedelta(hours=1), source="raw"
        ).attributed
        assert (point.clicks, point.orders, point.click_orders, point.code_orders) == (
            raw.clicks,
            raw.orders,
            raw.click_orders,
            raw.code_orders,
        )
        assert (point.revenue_minor, point.spend_minor) == (raw.revenue_minor, raw.spend_minor)
        assert point.visitors == raw.unique_visitors


def _snapshot(session: Session, shop_id: int) -> Any:
    settle_orders(session)  # the stream's last orders, as its transaction would on commit
    clicks = session.execute(
        select(ClickDay.day, ClickDay.link_id, ClickDay.clicks, ClickDay.visitors_sketch)
        .where(ClickDay.shop_id == shop_id, ClickDay.clicks != 0)
        .order_by(ClickDay.day, ClickDay.link_id)
    ).all()
    orders = session.execute(
        select(OrderDay)
        .where(OrderDay.shop_id == shop_id)
        .order_by(OrderDay.day, OrderDay.creator_id, OrderDay.campaign_id)
    ).scalars()
    measures = [
        tuple(getattr(row, c.name) for c in OrderDay.__table__.columns)
        for row in orders
        if any(
            getattr(row, name)
            for name in (
                "orders",
                "self_referral_orders",
                "commission_minor",
                "flat_fee_minor",
                "bonus_minor",
                "reversal_minor",
                "adjustment_minor",
                "gross_revenue_minor",
            )
        )
    ]
    # A maintained sketch may hold appended entries; its registers are what must match.
    cells = [(day, link, count, hll.decode(sketch)) for day, link, count, sketch in clicks]
    return cells, measures


@pytest.mark.parametrize("seed", range(4))
def test_rollups_equal_raw_recomputation(session: Session, seed: int) -> None:
    # given
    rng = random.Random(seed)
    world = _run_stream(session, rng)
    # then
    _assert_rollups_equal_raw(session, world, rng)
    _assert_series_matches_raw(session, world)
    # and a rebuild from the raw rows gives the very same cells
    maintained = _snapshot(session, world.shop.id)
    session.execute(OrderDay.__table__.delete().where(OrderDay.shop_id == world.shop.id))
    session.execute(ClickDay.__table__.delete().where(ClickDay.shop_id == world.shop.id))
    result = rebuild_shop(same_transaction(session), world.shop.id)
    assert result is not None
    assert result.days > 0
    assert _snapshot(session, world.shop.id) == maintained


def test_an_interrupted_rebuild_resumes_where_it_stopped(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a rebuild, two days per transaction, that stopped after its third chunk (killed)
    rng = random.Random(99)
    world = _run_stream(session, rng)
    maintained = _snapshot(session, world.shop.id)
    transaction = same_transaction(session)
    calls = {"days": 0}

    def flaky(*args: Any) -> None:
        calls["days"] += 1
        if calls["days"] == 4:
            raise RuntimeError("killed")
        rebuild_days(*args)

    monkeypatch.setattr("plugin.services.metrics_rebuild.rebuild_days", flaky)
    with pytest.raises(RuntimeError):
        rebuild_shop(transaction, world.shop.id, chunk_days=2)
    monkeypatch.undo()
    state = session.get(MetricState, world.shop.id)
    assert state is not None
    assert state.rebuild_finished_at is None
    assert state.rebuild_first_day is not None
    stopped_at = state.rebuild_next_day
    assert stopped_at == state.rebuild_first_day + timedelta(days=6)
    # when
    result = rebuild_shop(transaction, world.shop.id)
    # then: it resumed (only the remaining days) and the cells are the maintained ones
    assert result is not None
    assert result.resumed
    assert isinstance(state.rebuild_last_day, date)
    assert result.days == (state.rebuild_last_day - stopped_at).days
    assert _snapshot(session, world.shop.id) == maintained
