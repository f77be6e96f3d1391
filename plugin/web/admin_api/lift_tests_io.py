"""Request schemas, OpenAPI components and JSON representations for
plugin.web.admin_api.lift_tests."""

from __future__ import annotations

import math
from typing import Any

from plugin.domain.lift_design import DESIGNS, EXPLANATIONS, Guidance
from plugin.domain.lift_estimators import Interval
from plugin.domain.lift_report import Figures
from plugin.domain.validation import Field, Schema
from plugin.models import LiftTest
from plugin.services.lift_results import LiftResult
from plugin.web.admin_api.base import (
    BOOL,
    INT,
    PAGE_QUERY,
    STR,
    TIME,
    component,
    iso,
    nullable,
    obj,
    ref,
)

SEED_MAX = 2**48 - 1
SETTINGS = (
    Field("name", "string", min_length=1, max_length=200),
    Field(
        "product_ids",
        "array",
        item_kind="integer",
        max_length=100,
        description="store product ids the campaign promotes; empty: the whole store",
    ),
    Field("waves", "integer", minimum=2, maximum=8, description="staggered: number of waves"),
    Field(
        "wave_days",
        "integer",
        minimum=1,
        maximum=28,
        description="staggered: days per wave; the rollout lasts waves x wave_days days and "
        "each wave's date is drawn at random within it",
    ),
    Field(
        "holdout_bps",
        "integer",
        minimum=100,
        maximum=5000,
        description="holdout: share of link visitors without the discount, basis points",
    ),
    Field("baseline_days", "integer", minimum=14, maximum=365),
    Field("duration_days", "integer", minimum=7, maximum=180),
)
LIFT_TEST_INPUT = Schema(
    "LiftTestInput",
    (
        Field("campaign_id", "integer", required=True, minimum=1),
        Field("design", "string", required=True, choices=DESIGNS),
        Field(
            "seed",
            "integer",
            minimum=0,
            maximum=SEED_MAX,
            description="randomization seed; drawn at random when absent, fixed at launch",
        ),
        *SETTINGS,
    ),
)
LIFT_TEST_UPDATE = Schema("LiftTestUpdate", SETTINGS)

NUMBER = {"type": "number"}
INTERVAL = component(
    "LiftInterval",
    obj({"estimate": nullable(NUMBER), "low": nullable(NUMBER), "high": nullable(NUMBER)}),
)
FIGURES = component(
    "LiftFigures",
    obj(
        {
            "label": STR,
            "attributed_orders": INT,
            "attributed_revenue_minor": INT,
            "spend_minor": INT,
            "incremental_orders": ref(INTERVAL),
            "incremental_revenue_minor": ref(INTERVAL),
            "roi": {"oneOf": [ref(INTERVAL), {"type": "null"}]},
            "sentence": STR,
        }
    ),
)
RESULT = component(
    "LiftResult",
    obj(
        {
            "design": STR,
            "randomized": BOOL,
            "caveat": nullable(STR),
            "currency": STR,
            "start": TIME,
            "end": TIME,
            "warnings": {"type": "array", "items": STR},
            "campaign": {"oneOf": [ref(FIGURES), {"type": "null"}]},
            "creators": {
                "type": "array",
                "items": obj({"creator_id": INT, "name": STR, "figures": ref(FIGURES)}),
            },
            "incremental_share": {
                "oneOf": [ref(INTERVAL), {"type": "null"}],
                "description": "staggered, the headline: share of attributed orders that were "
                "extra, 95 % interval by randomization inference (the actual random schedule "
                "ranked among schedules re-drawn from the design; null ends: too thin to bound)",
            },
            "model_based_share": {
                "oneOf": [ref(INTERVAL), {"type": "null"}],
                "description": "staggered, secondary and model-based: the same share by "
                "difference in differences with a Newey-West interval (assumes parallel trends)",
            },
            "randomization": {
                "description": "staggered: what the headline interval rests on",
                "oneOf": [
                    obj(
                        {
                            "schedules": INT,
                            "smallest_p_value": NUMBER,
                            "interval_possible": BOOL,
                        }
                    ),
                    {"type": "null"},
                ],
            },
            "conversion": {
                "oneOf": [
                    obj(
                        {
                            "treated_visitors": INT,
                            "holdout_visitors": INT,
                            "treated_rate": nullable(NUMBER),
                            "holdout_rate": nullable(NUMBER),
                            "difference": ref(INTERVAL),
                        }
                    ),
                    {"type": "null"},
                ]
            },
            "chart": {
                "oneOf": [
                    obj(
                        {
                            "days": {
                                "type": "array",
                                "items": {"type": "string", "format": "date"},
                            },
                            "actual": {"type": "array", "items": NUMBER},
                            "counterfactual": {"type": "array", "items": NUMBER},
                            "launch_index": INT,
                            "measure": STR,
                        }
                    ),
                    {"type": "null"},
                ]
            },
        }
    ),
)
TEST_FIELDS = {
    "id": INT,
    "campaign_id": INT,
    "name": STR,
    "design": {"type": "string", "enum": list(DESIGNS)},
    "status": {"type": "string", "enum": ["draft", "running", "ended"]},
    "product_ids": {"type": "array", "items": STR},
    "waves": INT,
    "wave_days": INT,
    "holdout_bps": INT,
    "baseline_days": INT,
    "duration_days": INT,
    "seed": INT,
    "launched_at": nullable(TIME),
    "ended_at": nullable(TIME),
    "created_at": TIME,
    "explanation": obj(
        {
            "title": STR,
            "how": STR,
            "assumptions": {"type": "array", "items": STR},
            "caveat": nullable(STR),
        }
    ),
}
LIFT_TEST = component("LiftTest", obj(TEST_FIELDS))
LIFT_TEST_DETAIL = component(
    "LiftTestDetail",
    obj(
        {
            **TEST_FIELDS,
            "guidance": obj({"detectable_lift": nullable(NUMBER), "sentence": STR, "enough": BOOL}),
            "assignments": {
                "type": "array",
                "items": obj(
                    {
                        "creator_id": INT,
                        "wave": INT,
                        "day": INT,
                        "starts_at": TIME,
                        "activated_at": nullable(TIME),
                    }
                ),
            },
            "result": {"oneOf": [ref(RESULT), {"type": "null"}]},
        }
    ),
)
LIFT_QUERY = (Field("campaign_id", "integer", minimum=1), *PAGE_QUERY)


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def interval_json(interval: Interval | None) -> dict[str, Any] | None:
    if interval is None:
        return None
    return {
        "estimate": _number(interval.estimate),
        "low": _number(interval.low),
        "high": _number(interval.high),
    }


def figures_json(figures: Figures | None) -> dict[str, Any] | None:
    if figures is None:
        return None
    return {
        "label": figures.label,
        "attributed_orders": figures.attributed_orders,
        "attributed_revenue_minor": figures.attributed_revenue_minor,
        "spend_minor": figures.spend_minor,
        "incremental_orders": interval_json(figures.incremental_orders),
        "incremental_revenue_minor": interval_json(figures.incremental_revenue_minor),
        "roi": interval_json(figures.roi),
        "sentence": figures.sentence,
    }


def result_json(result: LiftResult, currency: str) -> dict[str, Any]:
    conversion = result.conversion
    chart = result.chart
    return {
        "design": result.design,
        "randomized": result.randomized,
        "caveat": result.caveat,
        "currency": currency,
        "start": iso(result.start),
        "end": iso(result.end),
        "warnings": list(result.warnings),
        "campaign": figures_json(result.campaign),
        "creators": [
            {"creator_id": creator_id, "name": name, "figures": figures_json(figures)}
            for creator_id, name, figures in result.creators
        ],
        "incremental_share": interval_json(result.incremental_share),
        "model_based_share": interval_json(result.model_based_share),
        "randomization": None if result.randomization is None else dict(result.randomization),
        "conversion": None
        if conversion is None
        else {
            "treated_visitors": conversion["treated_visitors"],
            "holdout_visitors": conversion["holdout_visitors"],
            "treated_rate": _number(conversion["treated_rate"]),
            "holdout_rate": _number(conversion["holdout_rate"]),
            "difference": interval_json(conversion["difference"]),
        },
        "chart": None
        if chart is None
        else {
            "days": [day.isoformat() for day in chart.days],
            "actual": [float(value) for value in chart.actual],
            "counterfactual": [float(value) for value in chart.counterfactual],
            "launch_index": chart.launch_index,
            "measure": chart.measure,
        },
    }


def test_json(test: LiftTest) -> dict[str, Any]:
    text = EXPLANATIONS[test.design]
    return {
        "id": test.id,
        "campaign_id": test.campaign_id,
        "name": test.name,
        "design": test.design,
        "status": test.status,
        "product_ids": [str(product) for product in test.product_ids],
        "waves": test.waves,
        "wave_days": test.wave_days,
        "holdout_bps": test.holdout_bps,
        "baseline_days": test.baseline_days,
        "duration_days": test.duration_days,
        "seed": test.seed,
        "launched_at": iso(test.launched_at),
        "ended_at": iso(test.ended_at),
        "created_at": iso(test.created_at),
        "explanation": {
            "title": text.title,
            "how": text.how,
            "assumptions": list(text.assumptions),
            "caveat": text.caveat,
        },
    }


def guidance_json(advice: Guidance) -> dict[str, Any]:
    return {
        "detectable_lift": _number(advice.detectable_lift),
        "sentence": advice.sentence,
        "enough": advice.enough,
    }
