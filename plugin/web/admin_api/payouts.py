"""Payouts: batches, approval, marking paid, cancelling, and the bulk-payout CSV."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, jsonify
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.validation import Field, Schema
from plugin.models import Payout, utcnow
from plugin.models.ledger import PAYOUT_STATUSES
from plugin.services import payouts as service
from plugin.web.admin_api.base import (
    CURRENCY,
    INT,
    PAGE_QUERY,
    STR,
    TIME,
    api_route,
    commit,
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

BATCH_KEY_PATTERN = r"[A-Za-z0-9._-]{1,64}"
BATCH_KEY_HINT = "must be 1-64 letters, digits, . _ -"

BATCH_INPUT = Schema(
    "PayoutBatchInput",
    (
        Field(
            "batch_key",
            "string",
            pattern=BATCH_KEY_PATTERN,
            pattern_hint=BATCH_KEY_HINT,
            description="idempotency key of the batch; repeating it creates nothing new",
        ),
    ),
)
MARK_PAID_INPUT = Schema(
    "MarkPaidInput",
    (
        Field(
            "external_reference",
            "string",
            required=True,
            min_length=1,
            max_length=255,
            description="the payment's id in the rail you paid through",
        ),
    ),
)
CANCEL_INPUT = Schema("CancelPayoutInput", (Field("note", "string", max_length=1000),))

PAYOUT = component(
    "Payout",
    obj(
        {
            "id": INT,
            "creator_id": INT,
            "amount_minor": INT,
            "currency": CURRENCY,
            "status": {"type": "string", "enum": list(PAYOUT_STATUSES)},
            "batch_key": STR,
            "reference": STR,
            "approved_at": nullable(TIME),
            "paid_at": nullable(TIME),
            "external_reference": nullable(STR),
            "note": STR,
            "created_at": TIME,
        }
    ),
)
BATCH = component(
    "PayoutBatch",
    obj(
        {
            "batch_key": STR,
            "currency": CURRENCY,
            "payouts": INT,
            "total_minor": INT,
            "pending_approval": INT,
            "approved": INT,
            "paid": INT,
            "cancelled": INT,
            "created_at": TIME,
        }
    ),
)
BATCH_RESULT = component(
    "PayoutBatchResult",
    obj({"batch_key": STR, "created": {"type": "array", "items": ref(PAYOUT)}}),
)
BATCH_LIST = component("PayoutBatchList", obj({"data": {"type": "array", "items": ref(BATCH)}}))
PAYOUT_QUERY = (
    Field("status", "string", choices=PAYOUT_STATUSES),
    Field("batch_key", "string", pattern=BATCH_KEY_PATTERN, pattern_hint=BATCH_KEY_HINT),
    Field("creator_id", "integer", minimum=1),
    *PAGE_QUERY,
)


def payout_json(payout: Payout) -> dict[str, Any]:
    return {
        "id": payout.id,
        "creator_id": payout.creator_id,
        "amount_minor": payout.amount_minor,
        "currency": payout.currency,
        "status": payout.status,
        "batch_key": payout.batch_key,
        "reference": payout.tastemaker_reference,
        "approved_at": iso(payout.approved_at),
        "paid_at": iso(payout.paid_at),
        "external_reference": payout.external_reference,
        "note": payout.note,
        "created_at": iso(payout.created_at),
    }


list_route(
    "/payouts",
    Payout,
    payout_json,
    name="list_payouts",
    summary="List payouts",
    tag="payouts",
    response=PAYOUT,
    query=PAYOUT_QUERY,
    match=("status", "batch_key", "creator_id"),
)


read_route(
    "/payouts/<int:payout_id>",
    Payout,
    payout_json,
    name="get_payout",
    summary="Read a payout",
    tag="payouts",
    response=PAYOUT,
)


@api_route(
    "/payouts/batches",
    "GET",
    summary="List payout batches with their totals and status counts",
    tag="payouts",
    response=BATCH_LIST,
)
def list_payout_batches() -> ResponseReturnValue:
    batches = service.batch_summaries(get_session(), current_tenant().shop_id)
    return jsonify(
        data=[{**asdict(batch), "created_at": iso(batch.created_at)} for batch in batches]
    )


@api_route(
    "/payouts/batches",
    "POST",
    summary="Batch every payable balance at or above the shop's minimum into payouts",
    tag="payouts",
    request=BATCH_INPUT,
    response=BATCH_RESULT,
    status=201,
)
def create_payout_batch() -> ResponseReturnValue:
    values = json_body(BATCH_INPUT)
    batch_key = values.get("batch_key") or "manual-" + utcnow().strftime("%Y%m%dT%H%M%S")
    created = service.batch_payouts(get_session(), current_tenant().shop_id, batch_key)
    commit()
    return jsonify(batch_key=batch_key, created=[payout_json(p) for p in created]), 201


@api_route(
    "/payouts/batches/<batch_key>/export.csv",
    "GET",
    summary="The batch's approved payouts as a bulk-payout CSV "
    "(recipient_email,amount,currency,reference,note)",
    tag="payouts",
    produces="text/csv",
)
def export_payout_batch(batch_key: str) -> ResponseReturnValue:
    tenant = current_tenant()
    if tenant.first(Payout, Payout.batch_key == batch_key) is None:
        return jsonify(error="not_found", message="no such resource in this shop"), 404
    body = service.batch_csv(get_session(), tenant.shop_id, batch_key)
    filename = f"tastemaker-payouts-{batch_key}.csv".replace('"', "")
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@api_route(
    "/payouts/<int:payout_id>/approve",
    "POST",
    summary="Approve a payout",
    tag="payouts",
    response=PAYOUT,
    errors=(409,),
)
def approve_payout(payout_id: int) -> ResponseReturnValue:
    payout = owned_or_404(Payout, payout_id)
    service.approve_payout(get_session(), payout.shop_id, payout.id)
    return saved(payout_json, payout)


@api_route(
    "/payouts/<int:payout_id>/mark-paid",
    "POST",
    summary="Record that an approved payout was paid, with the payment's external reference",
    tag="payouts",
    request=MARK_PAID_INPUT,
    response=PAYOUT,
    errors=(409,),
)
def mark_payout_paid(payout_id: int) -> ResponseReturnValue:
    payout = owned_or_404(Payout, payout_id)
    values = json_body(MARK_PAID_INPUT)
    service.mark_paid(get_session(), payout.shop_id, payout.id, values["external_reference"])
    return saved(payout_json, payout)


@api_route(
    "/payouts/<int:payout_id>/cancel",
    "POST",
    summary="Cancel an unpaid payout; its entries return to the next batch",
    tag="payouts",
    request=CANCEL_INPUT,
    response=PAYOUT,
    errors=(409,),
)
def cancel_payout(payout_id: int) -> ResponseReturnValue:
    payout = owned_or_404(Payout, payout_id)
    values = json_body(CANCEL_INPUT)
    service.cancel_payout(get_session(), payout.shop_id, payout.id, values.get("note", ""))
    return saved(payout_json, payout)
