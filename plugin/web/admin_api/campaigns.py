"""Campaigns (agreements, the creator x campaign terms, are in agreements.py)."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from plugin.domain.validation import Field, Schema
from plugin.models import Campaign
from plugin.models.creators import CAMPAIGN_FORMATS
from plugin.services import creators as service
from plugin.web.admin_api.base import (
    CURRENCY,
    INT,
    PAGE_QUERY,
    STR,
    TIME,
    api_route,
    component,
    iso,
    json_body,
    list_route,
    nullable,
    obj,
    owned_or_404,
    read_route,
    saved,
)
from plugin.web.auth import current_tenant

KPIS = ("revenue", "orders", "clicks", "new_customers", "content")
MAX_MINOR = 10**13

CAMPAIGN_INPUT = Schema(
    "CampaignInput",
    (
        Field("name", "string", required=True, min_length=1, max_length=200),
        Field("format", "string", required=True, choices=CAMPAIGN_FORMATS),
        Field("primary_kpi", "string", choices=KPIS),
        Field(
            "kpi_target",
            "integer",
            minimum=0,
            maximum=MAX_MINOR,
            description="the primary KPI's goal for the campaign (minor units for revenue)",
        ),
        Field("starts_at", "datetime", nullable=True),
        Field("ends_at", "datetime", nullable=True),
        Field("budget_minor", "integer", minimum=0, maximum=MAX_MINOR),
        Field("brief", "string", max_length=20_000),
    ),
)

CAMPAIGN = component(
    "Campaign",
    obj(
        {
            "id": INT,
            "name": STR,
            "format": {"type": "string", "enum": list(CAMPAIGN_FORMATS)},
            "primary_kpi": STR,
            "kpi_target": INT,
            "archived_at": nullable(TIME),
            "starts_at": nullable(TIME),
            "ends_at": nullable(TIME),
            "budget_minor": INT,
            "currency": CURRENCY,
            "brief": STR,
            "created_at": TIME,
        }
    ),
)


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "format": campaign.format,
        "primary_kpi": campaign.primary_kpi,
        "kpi_target": campaign.kpi_target,
        "archived_at": iso(campaign.archived_at),
        "starts_at": iso(campaign.starts_at),
        "ends_at": iso(campaign.ends_at),
        "budget_minor": campaign.budget_minor,
        "currency": campaign.currency,
        "brief": campaign.brief,
        "created_at": iso(campaign.created_at),
    }


list_route(
    "/campaigns",
    Campaign,
    campaign_json,
    name="list_campaigns",
    summary="List campaigns",
    tag="campaigns",
    response=CAMPAIGN,
    query=PAGE_QUERY,
)


@api_route(
    "/campaigns",
    "POST",
    summary="Create a campaign",
    tag="campaigns",
    request=CAMPAIGN_INPUT,
    response=CAMPAIGN,
    status=201,
)
def create_campaign() -> ResponseReturnValue:
    campaign = service.create_campaign(current_tenant(), json_body(CAMPAIGN_INPUT))
    return saved(campaign_json, campaign, status=201)


read_route(
    "/campaigns/<int:campaign_id>",
    Campaign,
    campaign_json,
    name="get_campaign",
    summary="Read a campaign",
    tag="campaigns",
    response=CAMPAIGN,
)


@api_route(
    "/campaigns/<int:campaign_id>",
    "PATCH",
    summary="Update a campaign",
    tag="campaigns",
    request=CAMPAIGN_INPUT,
    partial=True,
    response=CAMPAIGN,
)
def update_campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = owned_or_404(Campaign, campaign_id)
    service.update_campaign(current_tenant(), campaign, json_body(CAMPAIGN_INPUT, partial=True))
    return saved(campaign_json, campaign)
