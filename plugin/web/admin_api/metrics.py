"""Metrics per creator, campaign and period (computed by plugin.services.metrics)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.metrics import METRIC_DEFINITIONS
from plugin.domain.validation import Field, ValidationFailed
from plugin.models import Campaign, Creator, utcnow
from plugin.services import metrics as service
from plugin.web.admin_api.base import (
    BOOL,
    CURRENCY,
    INT,
    STR,
    TIME,
    api_route,
    component,
    nullable,
    obj,
    owned_or_404,
    query_values,
    ref,
)
from plugin.web.auth import current_tenant

DEFAULT_DAYS = 30
MAX_PERIOD = timedelta(days=731)

PERIOD_QUERY = (
    Field(
        "start",
        "datetime",
        description="inclusive; default: 30 days before end; widened to the shop-local "
        "midnight before it",
    ),
    Field(
        "end",
        "datetime",
        description="exclusive; default: now; widened to the shop-local midnight after it",
    ),
)
SCOPED_QUERY = (
    *PERIOD_QUERY,
    Field("creator_id", "integer", minimum=1),
    Field("campaign_id", "integer", minimum=1),
)
BPS = nullable(INT)

SPEND = component(
    "Spend",
    obj(
        {
            "commission_minor": INT,
            "flat_fee_minor": INT,
            "bonus_minor": INT,
            "reversal_minor": INT,
            "adjustment_minor": INT,
            "total_minor": INT,
            "definition": STR,
        }
    ),
)
PERFORMANCE = component(
    "Performance",
    obj(
        {
            "currency": CURRENCY,
            "start": TIME,
            "end": TIME,
            "clicks": INT,
            "unique_visitors": INT,
            "unique_visitors_approximate": BOOL,
            "orders": INT,
            "click_orders": INT,
            "code_orders": INT,
            "self_referral_orders": INT,
            "conversion_rate_bps": BPS,
            "gross_revenue_minor": INT,
            "refunded_minor": INT,
            "revenue_minor": INT,
            "average_order_value_minor": nullable(INT),
            "spend": ref(SPEND),
            "spend_minor": INT,
            "new_customers": INT,
            "cac_minor": nullable(INT),
            "roi_bps": BPS,
            "undefined": {
                "type": "object",
                "description": "why a metric is null, keyed by the metric's field name",
                "additionalProperties": STR,
            },
        }
    ),
)
DEFINITIONS = component(
    "MetricDefinitions",
    obj({"data": {"type": "object", "additionalProperties": STR}}),
)
LTV = component(
    "Ltv",
    obj(
        {
            "cohort_customers": INT,
            "repeat_customers": INT,
            "repeat_orders": INT,
            "repeat_revenue_minor": INT,
            "repeat_revenue_per_customer_minor": nullable(INT),
        }
    ),
)
CREATOR_METRICS = component(
    "CreatorMetricsList",
    obj(
        {
            "data": {
                "type": "array",
                "items": obj(
                    {
                        "creator_id": INT,
                        "handle": STR,
                        "performance": ref(PERFORMANCE),
                        "ltv": ref(LTV),
                    }
                ),
            }
        }
    ),
)
CAMPAIGN_METRICS = component(
    "CampaignMetricsList",
    obj(
        {
            "data": {
                "type": "array",
                "items": obj(
                    {"campaign_id": nullable(INT), "name": STR, "performance": ref(PERFORMANCE)}
                ),
            }
        }
    ),
)
SUMMARY = component(
    "ShopSummary",
    obj(
        {
            "shop_id": INT,
            "attributed": ref(PERFORMANCE),
            "all_orders": INT,
            "all_revenue_minor": INT,
            "attributed_revenue_share_bps": BPS,
        }
    ),
)
WINDOW = obj(
    {
        "start": TIME,
        "end": TIME,
        "orders": INT,
        "revenue_minor": INT,
        "revenue_per_day_minor": nullable(INT),
    }
)
UPLIFT = component(
    "Uplift",
    obj(
        {
            "method": STR,
            "caveat": STR,
            "currency": CURRENCY,
            "creator_id": nullable(INT),
            "campaign_id": nullable(INT),
            "attributed": WINDOW,
            "attributed_baseline": WINDOW,
            "unattributed": WINDOW,
            "unattributed_baseline": WINDOW,
            "attributed_revenue_change_bps": BPS,
            "unattributed_revenue_change_bps": BPS,
            "attributed_revenue_share_bps": BPS,
        }
    ),
)


def _period(params: dict[str, Any]) -> tuple[datetime, datetime]:
    end: datetime = params.get("end") or utcnow()
    start: datetime = params.get("start") or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise ValidationFailed({"end": "must be after start"})
    if end - start > MAX_PERIOD:
        raise ValidationFailed({"start": "the period can be at most 731 days"})
    return start, end


def _scope(params: dict[str, Any]) -> dict[str, int | None]:
    """Filters by another shop's creator or campaign answer 404, like any foreign id."""
    if "creator_id" in params:
        owned_or_404(Creator, params["creator_id"])
    if "campaign_id" in params:
        owned_or_404(Campaign, params["campaign_id"])
    return {"creator_id": params.get("creator_id"), "campaign_id": params.get("campaign_id")}


@api_route(
    "/metrics/creators",
    "GET",
    summary="Per-creator clicks, orders, conversion, revenue, AOV, spend, CAC, ROI and LTV",
    tag="metrics",
    response=CREATOR_METRICS,
    query=SCOPED_QUERY,
    errors=(404,),
)
def creator_metrics() -> ResponseReturnValue:
    params = query_values(SCOPED_QUERY)
    start, end = _period(params)
    rows = service.creator_metrics(
        get_session(), current_tenant().shop_id, start=start, end=end, **_scope(params)
    )
    return jsonify(data=[row.to_dict() for row in rows])


@api_route(
    "/metrics/campaigns",
    "GET",
    summary="Per-campaign metrics (plus always-on links outside any campaign)",
    tag="metrics",
    response=CAMPAIGN_METRICS,
    query=SCOPED_QUERY,
    errors=(404,),
)
def campaign_metrics() -> ResponseReturnValue:
    params = query_values(SCOPED_QUERY)
    start, end = _period(params)
    rows = service.campaign_metrics(
        get_session(), current_tenant().shop_id, start=start, end=end, **_scope(params)
    )
    return jsonify(data=[row.to_dict() for row in rows])


@api_route(
    "/metrics/summary",
    "GET",
    summary="The shop's creator program over a period, and its share of all sales",
    tag="metrics",
    response=SUMMARY,
    query=PERIOD_QUERY,
)
def shop_summary() -> ResponseReturnValue:
    start, end = _period(query_values(PERIOD_QUERY))
    summary = service.shop_summary(get_session(), current_tenant().shop_id, start=start, end=end)
    return jsonify(summary.to_dict())


@api_route(
    "/metrics/uplift",
    "GET",
    summary="Attributed revenue against the previous period and unattributed sales (observational)",
    tag="metrics",
    response=UPLIFT,
    query=SCOPED_QUERY,
    errors=(404,),
)
def uplift() -> ResponseReturnValue:
    params = query_values(SCOPED_QUERY)
    start, end = _period(params)
    view = service.uplift(
        get_session(), current_tenant().shop_id, start=start, end=end, **_scope(params)
    )
    return jsonify(view.to_dict())


@api_route(
    "/metrics/definitions",
    "GET",
    summary="What every metric means, in plain language (show it next to the number)",
    tag="metrics",
    response=DEFINITIONS,
)
def metric_definitions() -> ResponseReturnValue:
    return jsonify(data=METRIC_DEFINITIONS)
