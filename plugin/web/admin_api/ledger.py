"""Attributions (why an order is or is not a creator's), the ledger and manual adjustments."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from plugin.db import get_session
from plugin.domain.validation import Field, Schema, ValidationFailed
from plugin.models import Attribution, Creator, LedgerEntry, Order
from plugin.models.ledger import LEDGER_KINDS
from plugin.services.ledger import AdjustmentConflict, add_adjustment
from plugin.web.admin_api.base import (
    BOOL,
    CURRENCY,
    INT,
    PAGE_QUERY,
    STR,
    TIME,
    api_route,
    component,
    iso,
    json_body,
    list_page,
    list_route,
    nullable,
    obj,
    owned_or_404,
    owned_or_invalid,
    saved,
)
from plugin.web.auth import current_tenant

METHODS = ("code", "click", "landing", "none")
MAX_ADJUSTMENT = 10**12

ADJUSTMENT_INPUT = Schema(
    "AdjustmentInput",
    (
        Field("creator_id", "integer", required=True, minimum=1),
        Field(
            "amount_minor",
            "integer",
            required=True,
            minimum=-MAX_ADJUSTMENT,
            maximum=MAX_ADJUSTMENT,
            description="shop currency minor units; negative to deduct",
        ),
        Field("reason", "string", required=True, min_length=3, max_length=500),
        Field(
            "idempotency_key",
            "string",
            max_length=80,
            pattern=r"[A-Za-z0-9:._-]+",
            pattern_hint="must use only letters, digits, : . _ -",
            description="send the same key again to retry without posting twice",
        ),
    ),
)

ORDER_SUMMARY = obj(
    {
        "id": INT,
        "order_number": STR,
        "status": STR,
        "placed_at": TIME,
        "currency": CURRENCY,
        "total_minor": INT,
        "net_item_revenue_minor": INT,
        "presentment_currency": CURRENCY,
        "presentment_total_minor": INT,
    }
)
ATTRIBUTION = component(
    "Attribution",
    obj(
        {
            "id": INT,
            "order": ORDER_SUMMARY,
            "creator_id": nullable(INT),
            "agreement_id": nullable(INT),
            "campaign_id": nullable(INT),
            "method": {"type": "string", "enum": list(METHODS)},
            "evidence": {"type": "object"},
            "self_referral": BOOL,
            "commission_minor": INT,
            "currency": CURRENCY,
            "created_at": TIME,
        }
    ),
)
LEDGER_ENTRY = component(
    "LedgerEntry",
    obj(
        {
            "id": INT,
            "creator_id": INT,
            "order_id": nullable(INT),
            "agreement_id": nullable(INT),
            "kind": {"type": "string", "enum": list(LEDGER_KINDS)},
            "amount_minor": INT,
            "currency": CURRENCY,
            "presentment_amount_minor": nullable(INT),
            "presentment_currency": nullable(CURRENCY),
            "available_at": TIME,
            "reason": STR,
            "payout_id": nullable(INT),
            "created_at": TIME,
        }
    ),
)
ATTRIBUTION_QUERY = (
    Field("creator_id", "integer", minimum=1),
    Field("method", "string", choices=METHODS),
    *PAGE_QUERY,
)
LEDGER_QUERY = (
    Field("creator_id", "integer", minimum=1),
    Field("kind", "string", choices=LEDGER_KINDS),
    Field("order_id", "integer", minimum=1),
    *PAGE_QUERY,
)


def ledger_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "creator_id": entry.creator_id,
        "order_id": entry.order_id,
        "agreement_id": entry.agreement_id,
        "kind": entry.kind,
        "amount_minor": entry.amount_minor,
        "currency": entry.currency,
        "presentment_amount_minor": entry.presentment_amount_minor,
        "presentment_currency": entry.presentment_currency,
        "available_at": iso(entry.available_at),
        "reason": entry.reason,
        "payout_id": entry.payout_id,
        "created_at": iso(entry.created_at),
    }


def order_summary(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "order_number": order.order_number,
        "status": order.status,
        "placed_at": iso(order.placed_at),
        "currency": order.currency,
        "total_minor": order.total_minor,
        "net_item_revenue_minor": order.net_item_revenue_minor,
        "presentment_currency": order.presentment_currency,
        "presentment_total_minor": order.presentment_total_minor,
    }


def attribution_rows(shop_id: int, attributions: Sequence[Attribution]) -> list[dict[str, Any]]:
    """Attributions with their orders and net commission, in two queries for the whole page."""
    order_ids = [attribution.order_id for attribution in attributions]
    session = get_session()
    orders = {
        order.id: order
        for order in session.scalars(
            select(Order).where(Order.shop_id == shop_id, Order.id.in_(order_ids))
        )
    }
    commissions = dict(
        session.execute(
            select(LedgerEntry.order_id, func.sum(LedgerEntry.amount_minor))
            .where(LedgerEntry.shop_id == shop_id, LedgerEntry.order_id.in_(order_ids))
            .group_by(LedgerEntry.order_id)
        ).all()
    )
    rows = []
    for attribution in attributions:
        order = orders[attribution.order_id]
        rows.append(
            {
                "id": attribution.id,
                "order": order_summary(order),
                "creator_id": attribution.creator_id,
                "agreement_id": attribution.agreement_id,
                "campaign_id": attribution.campaign_id,
                "method": attribution.method,
                "evidence": dict(attribution.evidence),
                "self_referral": attribution.self_referral,
                "commission_minor": int(commissions.get(order.id) or 0),
                "currency": order.currency,
                "created_at": iso(attribution.created_at),
            }
        )
    return rows


@api_route(
    "/attributions",
    "GET",
    summary="List attribution decisions with their method and evidence",
    tag="attributions",
    response=ATTRIBUTION,
    query=ATTRIBUTION_QUERY,
    paginated=True,
)
def list_attributions() -> ResponseReturnValue:
    page = list_page(Attribution, ATTRIBUTION_QUERY, match=("creator_id", "method"))
    rows = attribution_rows(current_tenant().shop_id, page.rows)
    return jsonify(data=rows, next_cursor=page.next_cursor)


@api_route(
    "/attributions/<int:attribution_id>",
    "GET",
    summary="Read one attribution decision",
    tag="attributions",
    response=ATTRIBUTION,
)
def get_attribution(attribution_id: int) -> ResponseReturnValue:
    attribution = owned_or_404(Attribution, attribution_id)
    return jsonify(attribution_rows(current_tenant().shop_id, [attribution])[0])


list_route(
    "/ledger",
    LedgerEntry,
    ledger_json,
    name="list_ledger",
    summary="List ledger entries (append-only: commissions, reversals, fees, bonuses, adjustments)",
    tag="ledger",
    response=LEDGER_ENTRY,
    query=LEDGER_QUERY,
    match=("creator_id", "kind", "order_id"),
)


@api_route(
    "/ledger/adjustments",
    "POST",
    summary="Post a manual adjustment with a reason (payable at once)",
    tag="ledger",
    request=ADJUSTMENT_INPUT,
    response=LEDGER_ENTRY,
    status=201,
)
def create_adjustment() -> ResponseReturnValue:
    values = json_body(ADJUSTMENT_INPUT)
    tenant = current_tenant()
    if values["amount_minor"] == 0:
        raise ValidationFailed({"amount_minor": "must not be zero"})
    owned_or_invalid(Creator, values["creator_id"], "creator_id")
    key = values.get("idempotency_key") or secrets.token_hex(12)
    try:
        entry = add_adjustment(
            tenant.session,
            tenant.shop_id,
            values["creator_id"],
            values["amount_minor"],
            values["reason"],
            key,
        )
    except AdjustmentConflict:
        raise ValidationFailed({"idempotency_key": "was already used for another entry"}) from None
    return saved(ledger_json, entry, status=201)
