"""Deliverables (the work agreements list) and their review; flat fees still to come."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.contracts import DELIVERABLE_STATUSES, DeliverableTransitionError
from plugin.domain.validation import Field, Schema
from plugin.models import Deliverable, Shop, utcnow
from plugin.services import deliverables as deliverable_service
from plugin.services.contract_payments import upcoming_payments
from plugin.web.admin_api.agreements import NOT_BLANK
from plugin.web.admin_api.base import (
    BOOL,
    CURRENCY,
    INT,
    PAGE_QUERY,
    STR,
    TIME,
    api_route,
    bp,
    component,
    iso,
    json_body,
    list_route,
    nullable,
    obj,
    owned_or_404,
    saved,
)
from plugin.web.auth import current_tenant

APPROVAL_INPUT = Schema(
    "DeliverableApproval",
    (Field("message", "string", max_length=5000, description="optional; shown to the creator"),),
)
CHANGES_INPUT = Schema(
    "DeliverableChangeRequest",
    (
        Field(
            "message",
            "string",
            required=True,
            min_length=1,
            max_length=5000,
            pattern=NOT_BLANK,
            pattern_hint="tell the creator what to change",
            description="what the creator should change; shown to them",
        ),
    ),
)

DELIVERABLE_EVENT = obj(
    {
        "category": STR,
        "action": STR,
        "actor": STR,
        "occurred_at": TIME,
        "detail": {"type": "object"},
    }
)
DELIVERABLE = component(
    "Deliverable",
    obj(
        {
            "id": INT,
            "agreement_id": INT,
            "creator_id": INT,
            "position": INT,
            "kind": STR,
            "quantity": INT,
            "due_at": nullable(TIME),
            "brief": STR,
            "status": {"type": "string", "enum": list(DELIVERABLE_STATUSES)},
            "post_url": nullable(STR),
            "caption": STR,
            "creator_notes": STR,
            "submitted_at": nullable(TIME),
            "reviewed_at": nullable(TIME),
            "approved_at": nullable(TIME),
            "feedback": STR,
            "disclosure_ok": {"type": ["boolean", "null"]},
            "disclosure_matches": {"type": "array", "items": STR},
            "history": {"type": "array", "items": DELIVERABLE_EVENT},
        },
        optional=("history",),
    ),
)
UPCOMING = component(
    "UpcomingFlatFees",
    obj(
        {
            "data": {
                "type": "array",
                "items": obj(
                    {
                        "agreement_id": INT,
                        "creator_id": INT,
                        "key": STR,
                        "amount_minor": INT,
                        "currency": CURRENCY,
                        "expected_at": nullable(TIME),
                        "condition": STR,
                    }
                ),
            },
            "total_minor": INT,
            "waiting_on_events": BOOL,
        }
    ),
)
DELIVERABLE_QUERY = (
    Field("agreement_id", "integer", minimum=1),
    Field("creator_id", "integer", minimum=1),
    Field("status", "string", choices=DELIVERABLE_STATUSES),
    *PAGE_QUERY,
)


@bp.errorhandler(DeliverableTransitionError)
def deliverable_conflict(error: DeliverableTransitionError) -> tuple[Response, int]:
    return jsonify(error="conflict", message=str(error)), 409


def deliverable_json(row: Deliverable, *, with_history: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "agreement_id": row.agreement_id,
        "creator_id": row.creator_id,
        "position": row.position,
        "kind": row.kind,
        "quantity": row.quantity,
        "due_at": iso(row.due_at),
        "brief": row.brief,
        "status": row.status,
        "post_url": row.post_url,
        "caption": row.caption,
        "creator_notes": row.creator_notes,
        "submitted_at": iso(row.submitted_at),
        "reviewed_at": iso(row.reviewed_at),
        "approved_at": iso(row.approved_at),
        "feedback": row.feedback,
        "disclosure_ok": row.disclosure_ok,
        "disclosure_matches": list(row.disclosure_matches or []),
    }
    if with_history:
        body["history"] = [
            {
                "category": event.category,
                "action": event.action,
                "actor": event.actor,
                "occurred_at": iso(event.occurred_at),
                "detail": dict(event.detail or {}),
            }
            for event in deliverable_service.history(current_tenant(), row.id)
        ]
    return body


list_route(
    "/deliverables",
    Deliverable,
    deliverable_json,
    name="list_deliverables",
    summary="List deliverables (the work agreements list) with their review status",
    tag="agreements",
    response=DELIVERABLE,
    query=DELIVERABLE_QUERY,
    match=("agreement_id", "creator_id", "status"),
)


@api_route(
    "/deliverables/<int:deliverable_id>",
    "GET",
    summary="Read a deliverable with its audit trail (submissions, disclosure checks, reviews)",
    tag="agreements",
    response=DELIVERABLE,
)
def get_deliverable(deliverable_id: int) -> ResponseReturnValue:
    row = owned_or_404(Deliverable, deliverable_id)
    return jsonify(deliverable_json(row, with_history=True))


@api_route(
    "/deliverables/<int:deliverable_id>/approve",
    "POST",
    summary="Approve a submitted deliverable (books its flat-fee share on an on_delivery schedule)",
    tag="agreements",
    request=APPROVAL_INPUT,
    response=DELIVERABLE,
    errors=(409,),
)
def approve_deliverable(deliverable_id: int) -> ResponseReturnValue:
    return _review(deliverable_id, "approve", json_body(APPROVAL_INPUT))


@api_route(
    "/deliverables/<int:deliverable_id>/request-changes",
    "POST",
    summary="Send a submitted deliverable back to the creator with what to change",
    tag="agreements",
    request=CHANGES_INPUT,
    response=DELIVERABLE,
    errors=(409,),
)
def request_deliverable_changes(deliverable_id: int) -> ResponseReturnValue:
    return _review(deliverable_id, "request_changes", json_body(CHANGES_INPUT))


def _review(deliverable_id: int, decision: str, values: dict[str, Any]) -> ResponseReturnValue:
    row = owned_or_404(Deliverable, deliverable_id)
    deliverable_service.review(
        current_tenant(), row, decision, values.get("message", ""), actor="api"
    )
    return saved(lambda r: deliverable_json(r, with_history=True), row)


@api_route(
    "/flat-fees/upcoming",
    "GET",
    summary="Flat fees not yet booked, by when they fall due (the next three months of monthly "
    "fees; fees that wait on an acceptance, an approval or completion have no date)",
    tag="agreements",
    response=UPCOMING,
)
def upcoming_flat_fees() -> ResponseReturnValue:
    tenant = current_tenant()
    shop = get_session().get(Shop, tenant.shop_id)
    assert shop is not None
    rows = upcoming_payments(get_session(), shop, utcnow())
    return jsonify(
        data=[
            {
                "agreement_id": row.agreement_id,
                "creator_id": row.creator.id,
                "key": row.key,
                "amount_minor": row.amount_minor,
                "currency": row.currency,
                "expected_at": iso(row.expected_at),
                "condition": row.condition,
            }
            for row in rows
        ],
        total_minor=sum(row.amount_minor for row in rows),
        waiting_on_events=any(row.expected_at is None for row in rows),
    )
