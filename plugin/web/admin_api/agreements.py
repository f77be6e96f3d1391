"""Agreements (creator x campaign terms) and the versions of their terms."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from plugin.domain.validation import Field, Schema
from plugin.models import Agreement
from plugin.models.creators import PAYMENT_SCHEDULES
from plugin.services import agreements as agreement_service
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
    ref,
    saved,
)
from plugin.web.auth import current_tenant

AGREEMENT_STATUSES = ("draft", "active", "completed", "terminated")
ACCEPTANCE_STATES = ("not_required", "unsigned", "awaiting", "accepted")
MAX_MINOR = 10**13
# Documents "not only whitespace" (the validator strips text first) for strict API clients.
NOT_BLANK = r"[\s\S]*\S[\s\S]*"

DELIVERABLE_TERMS = Schema(
    "DeliverableTerms",
    (
        Field(
            "kind",
            "string",
            required=True,
            min_length=1,
            max_length=64,
            pattern=NOT_BLANK,
            pattern_hint="must not be empty",
        ),
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
    Field("deliverables", "array", items=DELIVERABLE_TERMS, max_length=50),
    Field("usage_rights_days", "integer", minimum=0, maximum=36_500),
    Field(
        "usage_rights_territory",
        "string",
        min_length=1,
        max_length=120,
        pattern=NOT_BLANK,
        pattern_hint="must not be empty",
    ),
    Field(
        "usage_rights_channels",
        "array",
        item_kind="string",
        max_length=20,
        description="where the store may reuse the content, e.g. instagram, email, paid ads",
    ),
    Field("exclusivity", "string", max_length=5000),
    Field("termination_terms", "string", max_length=5000),
    Field("payment_schedule", "string", choices=PAYMENT_SCHEDULES),
    Field("flat_fee_minor", "integer", minimum=0, maximum=MAX_MINOR),
    Field("commission_rate_bps", "integer", minimum=0, maximum=10_000),
    Field("bonus_tiers", "array", items=BONUS_TIER, max_length=20),
    Field("status", "string", choices=AGREEMENT_STATUSES),
    Field("starts_at", "datetime", nullable=True),
    Field("ends_at", "datetime", nullable=True),
    Field(
        "live_on_acceptance",
        "boolean",
        nullable=True,
        description="hold the creator's new codes and links until they accept; null = the "
        "shop's setting",
    ),
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
AGREEMENT = component(
    "Agreement",
    obj(
        {
            "id": INT,
            "creator_id": INT,
            "campaign_id": nullable(INT),
            "deliverables": {"type": "array", "items": DELIVERABLE_TERMS.json_schema()},
            "usage_rights_days": INT,
            "usage_rights_territory": STR,
            "usage_rights_channels": {"type": "array", "items": STR},
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
            "live_on_acceptance": {"type": ["boolean", "null"]},
            "terms_version": INT,
            "accepted_version": nullable(INT),
            "signed_at": nullable(TIME),
            "acceptance": {"type": "string", "enum": list(ACCEPTANCE_STATES)},
            "created_at": TIME,
        }
    ),
)
AGREEMENT_VERSION = component(
    "AgreementVersion",
    obj(
        {
            "number": INT,
            "created_at": TIME,
            "created_by": STR,
            "changed_fields": {"type": "array", "items": STR},
            "terms": {"type": "object"},
            "terms_digest": STR,
            "acceptance": nullable(
                obj({"accepted_by": STR, "accepted_at": TIME, "document_hash": STR})
            ),
        }
    ),
)
VERSION_LIST = component(
    "AgreementVersionList",
    obj({"data": {"type": "array", "items": ref(AGREEMENT_VERSION)}}),
)
AGREEMENT_QUERY = (
    Field("creator_id", "integer", minimum=1),
    Field("campaign_id", "integer", minimum=1),
    *PAGE_QUERY,
)


def agreement_json(agreement: Agreement) -> dict[str, Any]:
    return {
        "id": agreement.id,
        "creator_id": agreement.creator_id,
        "campaign_id": agreement.campaign_id,
        "deliverables": list(agreement.deliverables),
        "usage_rights_days": agreement.usage_rights_days,
        "usage_rights_territory": agreement.usage_rights_territory,
        "usage_rights_channels": list(agreement.usage_rights_channels or []),
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
        "live_on_acceptance": agreement.live_on_acceptance,
        "terms_version": agreement.terms_version,
        "accepted_version": agreement.accepted_version,
        "signed_at": iso(agreement.signed_at),
        "acceptance": agreement_service.acceptance_state(agreement),
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
    summary="Agree terms with a creator, for a campaign or store-wide (campaign_id null); "
    "records version 1, which the creator accepts on their page",
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
    summary="Update an agreement; a change to its terms records a new version the creator "
    "must accept (terms already signed stay in force, and in this body, until they do)",
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


@api_route(
    "/agreements/<int:agreement_id>/versions",
    "GET",
    summary="Every version of an agreement's terms, newest first, with its acceptance",
    tag="agreements",
    response=VERSION_LIST,
)
def list_agreement_versions(agreement_id: int) -> ResponseReturnValue:
    tenant = current_tenant()
    agreement = owned_or_404(Agreement, agreement_id)
    accepted = {a.version_number: a for a in agreement_service.acceptances(tenant, agreement)}
    data = []
    for version in agreement_service.versions(tenant, agreement):
        acceptance = accepted.get(version.number)
        data.append(
            {
                "number": version.number,
                "created_at": iso(version.created_at),
                "created_by": version.created_by,
                "changed_fields": list(version.changed_fields),
                "terms": dict(version.terms),
                "terms_digest": version.terms_digest,
                "acceptance": {
                    "accepted_by": acceptance.accepted_by,
                    "accepted_at": iso(acceptance.accepted_at),
                    "document_hash": acceptance.document_hash,
                }
                if acceptance
                else None,
            }
        )
    return jsonify(data=data)
