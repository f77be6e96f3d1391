"""Day-by-day series for the charts: shop-timezone days, click vs code orders, spend without
adjustments, scoped by creator and campaign, zeros on quiet days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from plugin.models import Attribution, Campaign
from plugin.services.metrics_rebuild import rebuild_shop
from plugin.services.metrics_series import DayPoint, daily_series
from tests.metrics.conftest import Builder, same_transaction


def when(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_days_follow_the_shop_timezone_and_split_click_and_code_orders(session: Session) -> None:
    # given a New York shop (UTC-5 in early March)
    b = Builder(session, "glow.example")
    b.shop.timezone = "America/New_York"
    b.shop.currency = "USD"
    mia, dan = b.creator("mia"), b.creator("dan")
    spring = b.add(Campaign(name="Spring", format="live_drop"))
    assert isinstance(spring, Campaign)
    link = b.link(mia, spring)
    b.clicks(link, when(2, 3), "v1", "v2", "v1")  # 1 March, 22:00 in New York
    b.clicks(link, when(2, 15), "v3")
    by_click = b.order(when(2, 16), 5_000, creator=mia, campaign=spring)
    for attribution in session.query(Attribution).filter_by(order_id=by_click.id):
        attribution.method = "click"
    by_code = b.order(when(3, 12), 2_000, creator=mia)
    b.refund(by_code, 500, when(4, 12))
    b.order(when(3, 13), 9_999, creator=mia, self_referral=True)
    b.order(when(3, 14), 9_999, creator=mia, test=True)
    b.order(when(3, 15), 1_000, creator=dan)
    b.entry(mia, "commission", 600, when(2, 16), order=by_click)
    b.entry(mia, "commission", 240, when(3, 12), order=by_code)
    b.entry(mia, "reversal", -60, when(4, 12), order=by_code)
    b.entry(mia, "adjustment", -1_000, when(3, 18))
    session.flush()
    rebuild_shop(same_transaction(session), b.shop.id)
    # when
    points = daily_series(session, b.shop.id, start=date(2026, 3, 1), end=date(2026, 3, 5))
    mine = daily_series(
        session, b.shop.id, start=date(2026, 3, 1), end=date(2026, 3, 5), creator_id=mia.id
    )
    spring_only = daily_series(
        session, b.shop.id, start=date(2026, 3, 1), end=date(2026, 3, 5), campaign_id=spring.id
    )
    # then
    assert [p.day for p in points] == [date(2026, 3, d) for d in (1, 2, 3, 4)]
    assert [(p.clicks, p.visitors) for p in points] == [(3, 2), (1, 1), (0, 0), (0, 0)]
    assert [(p.orders, p.click_orders, p.code_orders) for p in points] == [
        (0, 0, 0),
        (1, 1, 0),
        (2, 0, 2),
        (0, 0, 0),
    ]
    # the refund nets against the order's day; the self-referral and test orders never count
    assert [p.revenue_minor for p in points] == [0, 5_000, 1_500 + 1_000, 0]
    # the reversal nets against the order it reverses; a manual adjustment is spend on its day
    # (the definition of spend in plugin/domain/metrics.py)
    assert [p.spend_minor for p in points] == [0, 600, 240 - 60 - 1_000, 0]
    assert all(p.currency == "USD" for p in points)
    assert [p.orders for p in mine] == [0, 1, 1, 0]
    assert [(p.clicks, p.orders, p.spend_minor) for p in spring_only] == [
        (3, 0, 0),
        (1, 1, 600),
        (0, 0, 0),
        (0, 0, 0),
    ]


def test_conversion_from_the_series_cannot_pass_100_percent(session: Session) -> None:
    # given one click and three code-only orders
    b = Builder(session, "codes.example")
    mia = b.creator("mia")
    b.clicks(b.link(mia, None), when(5, 12), "v1")
    for hour in (13, 14, 15):
        b.order(when(5, hour), 1_000, creator=mia)
    session.flush()
    rebuild_shop(same_transaction(session), b.shop.id)
    (point,) = daily_series(session, b.shop.id, start=date(2026, 3, 5), end=date(2026, 3, 6))
    assert (point.clicks, point.orders, point.click_orders, point.code_orders) == (1, 3, 0, 3)
    assert point.click_orders <= point.clicks


def test_an_inverted_range_is_refused(session: Session) -> None:
    b = Builder(session, "x.example")
    with pytest.raises(ValueError, match="start must be before end"):
        daily_series(session, b.shop.id, start=date(2026, 3, 5), end=date(2026, 3, 5))
    assert DayPoint.__dataclass_fields__.keys() >= {"day", "clicks", "spend_minor", "currency"}


def test_a_campaign_kpi_is_cumulative_and_its_pace_runs_to_the_last_day(session: Session) -> None:
    from plugin.services.campaign_progress import campaign_days, kpi_series

    # given an 11-day campaign (1-11 March) with a revenue target of 1,000.00
    b = Builder(session, "kpi.example")
    mia = b.creator("mia")
    spring = b.add(
        Campaign(
            name="Spring",
            format="shoppable_story",
            primary_kpi="revenue",
            kpi_target=100_000,
            starts_at=when(1, 0),
            ends_at=when(11, 12),
        )
    )
    assert isinstance(spring, Campaign)
    b.order(when(2, 12), 10_000, creator=mia, campaign=spring)
    b.order(when(4, 12), 5_000, creator=mia, campaign=spring)
    session.flush()
    rebuild_shop(same_transaction(session), b.shop.id)
    start, last = campaign_days(spring, b.shop, today=date(2026, 3, 6))
    assert (start, last) == (date(2026, 3, 1), date(2026, 3, 11))
    # when charted up to "today", the 6th
    series = kpi_series(session, b.shop, spring, start, date(2026, 3, 6), last_day=last)
    # then
    assert [point.actual for point in series] == [0, 10_000, 10_000, 15_000, 15_000, 15_000]
    assert [point.target for point in series] == [0, 10_000, 20_000, 30_000, 40_000, 50_000]


def test_a_new_customers_kpi_counts_the_campaigns_credited_first_orders(session: Session) -> None:
    from plugin.services.campaign_progress import kpi_series

    # given a review campaign whose KPI is new customers, in a Paris shop
    b = Builder(session, "firsts.example")
    b.shop.timezone = "Europe/Paris"
    mia = b.creator("mia")
    reviews = b.add(Campaign(name="Reviews", format="review_series", primary_kpi="new_customers"))
    other = b.add(Campaign(name="Other", format="live_drop"))
    assert isinstance(reviews, Campaign)
    assert isinstance(other, Campaign)
    b.order(when(2, 10), 1_000, creator=mia, campaign=reviews, customer="ann", first=True)
    b.order(when(2, 23), 1_000, creator=mia, campaign=reviews, customer="bo", first=True)  # 3rd
    b.order(when(3, 10), 1_000, creator=mia, campaign=reviews, customer="ann", first=False)
    b.order(when(3, 11), 1_000, creator=mia, campaign=reviews, customer="cy", first=True, test=True)
    b.order(
        when(3, 12), 1_000, creator=mia, campaign=reviews, customer="di", first=True,
        self_referral=True,
    )  # fmt: skip
    b.order(when(3, 13), 1_000, creator=mia, campaign=reviews, customer="ed", first=True,
            status="pending")  # fmt: skip
    b.order(when(3, 14), 1_000, creator=mia, campaign=other, customer="fay", first=True)
    b.order(when(4, 9), 1_000, creator=mia, campaign=reviews, customer="gus", first=True)
    session.flush()
    rebuild_shop(same_transaction(session), b.shop.id)
    # when
    series = kpi_series(session, b.shop, reviews, date(2026, 3, 1), date(2026, 3, 4))
    # then: Ann on the 2nd, Bo at 23:00 UTC, the 3rd in Paris, Gus on the 4th; repeat, test,
    # self-referred, unpaid and other campaigns' first orders do not count
    assert [point.actual for point in series] == [0, 1, 2, 3]
