"""Performance: the program's clicks, orders, revenue and spend over time, and the click -> order
funnel, as charts (server-side SVG) with their numbers; days in the shop's timezone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy.orm import Session

from plugin.db import get_session
from plugin.models import Shop, utcnow
from plugin.services.ledger import shop_timezone
from plugin.services.metrics_series import DayPoint, daily_series
from plugin.web import admin_auth, rendering
from plugin.web.charts import Series, funnel_chart, line_chart
from plugin.web.merchant import bp
from plugin.web.merchant.definitions import DEFINITIONS

PERIODS = (7, 30, 90)


def today_in_shop(shop: Shop) -> date:
    return utcnow().astimezone(shop_timezone(shop)).date()


def _label(day: date) -> str:
    return day.strftime("%d %b")


def program_charts(
    session: Session,
    shop: Shop,
    start: date,
    end: date,
    *,
    creator_id: int | None = None,
    campaign_id: int | None = None,
    points: list[DayPoint] | None = None,
) -> dict[str, Any]:
    """The charts (and totals) for one scope: the whole program, a creator or a campaign
    (`points`: that scope's series when the caller already has it)."""
    if points is None:
        points = daily_series(
            session,
            shop.id,
            start=start,
            end=end + timedelta(days=1),
            creator_id=creator_id,
            campaign_id=campaign_id,
        )
    labels = [_label(point.day) for point in points]
    currency = shop.currency

    def money(minor: int) -> str:
        return rendering.money(minor, currency)

    def money_axis(minor: int) -> str:
        """Whole units on the axis ("USD 1,250"); the table keeps the cents."""
        return rendering.money(minor, currency).split(".")[0]

    totals = _totals(points)
    return {
        "points": points,
        "totals": totals,
        "traffic": line_chart(
            "Clicks and orders per day",
            labels,
            [
                Series("Clicks", [p.clicks for p in points]),
                Series("Orders", [p.orders for p in points]),
            ],
        ),
        "revenue": line_chart(
            f"Revenue and spend per day ({currency})",
            labels,
            [
                Series("Revenue", [p.revenue_minor for p in points]),
                Series("Spend", [p.spend_minor for p in points], dashed=True),
            ],
            fmt=money,
            axis_fmt=money_axis,
        ),
        "funnel": funnel_chart(
            "From click to order",
            [
                ("Clicks", totals["clicks"]),
                ("Visitors", totals["visitors"]),
                ("Orders from clicks", totals["click_orders"]),
            ],
            note=f"Orders through a discount code alone: {totals['code_orders']} "
            "(counted in orders, not in the click funnel).",
        ),
    }


def _totals(points: list[DayPoint]) -> dict[str, int]:
    names = ("clicks", "orders", "click_orders", "code_orders", "revenue_minor", "spend_minor")
    totals = {name: sum(getattr(point, name) for point in points) for name in names}
    # Visitors are distinct per day; over the period this is the sum of daily visitors.
    totals["visitors"] = sum(point.visitors for point in points)
    return totals


def conversion_text(totals: dict[str, int]) -> str:
    if not totals["clicks"]:
        return rendering.NO_VALUE
    return f"{totals['click_orders'] * 100 / totals['clicks']:.1f}%"


def roi_text(totals: dict[str, int]) -> str:
    """ROI only means something when something was spent: otherwise a dash, never a sign."""
    if totals["spend_minor"] <= 0:
        return rendering.NO_VALUE
    roi = (totals["revenue_minor"] - totals["spend_minor"]) * 100 / totals["spend_minor"]
    return f"{roi:,.0f}%"


@bp.get("/admin/performance")
@admin_auth.admin_page
def performance() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    days = request.args.get("days", 30, type=int)
    days = days if days in PERIODS else 30
    end = today_in_shop(shop)
    start = end - timedelta(days=days - 1)
    charts = program_charts(get_session(), shop, start, end)
    return render_template(
        "merchant/performance.html",
        shop=shop,
        days=days,
        periods=PERIODS,
        start=start,
        end=end,
        charts=charts,
        conversion=conversion_text(charts["totals"]),
        roi=roi_text(charts["totals"]),
        definitions=DEFINITIONS,
        chart=Markup,
    )
