"""Campaigns and agreements (creator x campaign terms)."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from plugin.domain.validation import Field, Schema
from plugin.models import Agreement, Campaign
from plugin.models.creators import CAMPAIGN_FORMATS, PAYMENT_SCHEDULES
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
AGREEMENT_STATUSES = ("draft", "active", "completed", "terminated")
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

DELIVERABLE = Schema(
    "Deliverable",
    (
        Field("kind", "string", required=True, min_length=1, max_length=64),
        Field("quantity", "integer", minimum=1, maximum=1000),
        Field("due_at", "datetime", nullable=True),
        Field("notes", "string", max_length=2000),
    ),
)
BONUS_TIER = Schema(
    "BonusTier",
    (
        Field("min_orders", "integer", required=True, minimum=1, maximum=1_000_000),
        Field("extra_rate_bps", "integer", required=True, minimum=0, maximum=10_000),
    ),
)
AGREEMENT_TERMS = (
    Field("deliverables", "array", items=DELIVERABLE, max_length=50),
    Field("usage_rights_days", "integer", minimum=0, maximum=36_500),
    Field("usage_rights_territory", "string", min_length=1, max_length=120),
    Field("exclusivity", "string", max_length=5000),
    Field("termination_terms", "string", max_length=5000),
    Field("payment_schedule", "string", choices=PAYMENT_SCHEDULES),
    Field("flat_fee_minor", "integer", minimum=0, maximum=MAX_MINOR),
    Field("commission_rate_bps", "integer", minimum=0, maximum=10_000),
    Field("bonus_tiers", "array", items=BONUS_TIER, max_length=20),
    Field("status", "string", choices=AGREEMENT_STATUSES),
    Field("starts_at", "datetime", nullable=True),
    Field("ends_at", "datetime", nullable=True),
)
AGREEMENT_INPUT = Schema(
    "AgreementInput",
    (
        Field("creator_id", "integer", required=True, minimum=1),
        Field("campaign_id", "integer", minimum=1, nullable=True),
        *AGREEMENT_TERMS,
    ),
)
AGREEMENT_UPDATE = Schema("AgreementUpdate", AGREEMENT_TERMS)

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
AGREEMENT = component(
    "Agreement",
    obj(
        {
            "id": INT,
            "creator_id": INT,
            "campaign_id": nullable(INT),
            "deliverables": {"type": "array", "items": DELIVERABLE.json_schema()},
            "usage_rights_days": INT,
            "usage_rights_territory": STR,
            "exclusivity": STR,
            "termination_terms": STR,
            "payment_schedule": STR,
            "flat_fee_minor": INT,
            "commission_rate_bps": INT,
            "bonus_tiers": {"type": "array", "items": BONUS_TIER.json_schema()},
            "currency": CURRENCY,
            "status": STR,
            "starts_at": nullable(TIME),
            "ends_at": nullable(TIME),
            "created_at": TIME,
        }
    ),
)
AGREEMENT_QUERY = (
    Field("creator_id", "integer", minimum=1),
    Field("campaign_id", "integer", minimum=1),
    *PAGE_QUERY,
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


def agreement_json(agreement: Agreement) -> dict[str, Any]:
    return {
        "id": agreement.id,
        "creator_id": agreement.creator_id,
        "campaign_id": agreement.campaign_id,
        "deliverables": list(agreement.deliverables),
        "usage_rights_days": agreement.usage_rights_days,
        "usage_rights_territory": agreement.usage_rights_territory,
        "exclusivity": agreement.exclusivity,
        "termination_terms": agreement.termination_terms,
        "payment_schedule": agreement.payment_schedule,
        "flat_fee_minor": agreement.flat_fee_minor,
        "commission_rate_bps": agreement.commission_rate_bps,
        "bonus_tiers": list(agreement.bonus_tiers),
        "currency": agreement.currency,
        "status": agreement.status,
        "starts_at": iso(agreement.starts_at),
        "ends_at": iso(agreement.ends_at),
        "created_at": iso(agreement.created_at),
    }


def _json_ready_terms(values: dict[str, Any]) -> dict[str, Any]:
    # Deliverables live in a JSON column: their due dates are stored as ISO strings.
    if "deliverables" in values:
        values["deliverables"] = [
            {**item, "due_at": iso(item["due_at"])} if item.get("due_at") else item
            for item in values["deliverables"]
        ]
    return values


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


list_route(
    "/agreements",
    Agreement,
    agreement_json,
    name="list_agreements",
    summary="List agreements",
    tag="agreements",
    response=AGREEMENT,
    query=AGREEMENT_QUERY,
    match=("creator_id", "campaign_id"),
)


@api_route(
    "/agreements",
    "POST",
    summary="Agree terms with a creator, for a campaign or store-wide (campaign_id null)",
    tag="agreements",
    request=AGREEMENT_INPUT,
    response=AGREEMENT,
    status=201,
)
def create_agreement() -> ResponseReturnValue:
    values = _json_ready_terms(json_body(AGREEMENT_INPUT))
    agreement = service.create_agreement(current_tenant(), values)
    return saved(agreement_json, agreement, status=201)


read_route(
    "/agreements/<int:agreement_id>",
    Agreement,
    agreement_json,
    name="get_agreement",
    summary="Read an agreement",
    tag="agreements",
    response=AGREEMENT,
)


@api_route(
    "/agreements/<int:agreement_id>",
    "PATCH",
    summary="Update an agreement's terms",
    tag="agreements",
    request=AGREEMENT_UPDATE,
    partial=True,
    response=AGREEMENT,
)
def update_agreement(agreement_id: int) -> ResponseReturnValue:
    agreement = owned_or_404(Agreement, agreement_id)
    values = _json_ready_terms(json_body(AGREEMENT_UPDATE, partial=True))
    service.update_agreement(current_tenant(), agreement, values)
    return saved(agreement_json, agreement)
