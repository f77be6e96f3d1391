"""Creators: list, create, read, update (status changes retire codes), balance, portal link."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.creator_input import CREATOR_INPUT
from plugin.domain.validation import Field, Schema, ValidationFailed
from plugin.models import Creator
from plugin.models.creators import CREATOR_STATUSES
from plugin.services import creator_import
from plugin.services import creators as service
from plugin.services.payouts import creator_balances
from plugin.web.admin_api.base import (
    BOOL,
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
    saved,
)
from plugin.web.auth import current_tenant

CREATOR = component(
    "Creator",
    obj(
        {
            "id": INT,
            "handle": STR,
            "name": STR,
            "email": nullable(STR),
            "customer_ids": {"type": "array", "items": STR},
            "social_handles": {"type": "object"},
            "niche": STR,
            "audience_size": INT,
            "engagement_rate_bps": INT,
            "status": {"type": "string", "enum": list(CREATOR_STATUSES)},
            "payout_email": nullable(STR),
            "payout_method": STR,
            "has_portal_link": BOOL,
            "created_at": TIME,
        }
    ),
)
BALANCE = component(
    "CreatorBalance",
    obj(
        {
            "creator_id": INT,
            "currency": CURRENCY,
            "held_minor": INT,
            "available_minor": INT,
            "in_payout_minor": INT,
            "paid_minor": INT,
        }
    ),
)
PORTAL_LINK = component("PortalLink", obj({"creator_id": INT, "url": STR}))
LIST_QUERY = (Field("status", "string", choices=CREATOR_STATUSES), *PAGE_QUERY)


def creator_json(creator: Creator) -> dict[str, Any]:
    return {
        "id": creator.id,
        "handle": creator.handle,
        "name": creator.name,
        "email": creator.email,
        "customer_ids": list(creator.customer_ids),
        "social_handles": dict(creator.social_handles),
        "niche": creator.niche,
        "audience_size": creator.audience_size,
        "engagement_rate_bps": creator.engagement_rate_bps,
        "status": creator.status,
        "payout_email": creator.payout_email,
        "payout_method": creator.payout_method,
        "has_portal_link": creator.portal_token_hash is not None,
        "created_at": iso(creator.created_at),
    }


list_route(
    "/creators",
    Creator,
    creator_json,
    name="list_creators",
    summary="List creators",
    tag="creators",
    response=CREATOR,
    query=LIST_QUERY,
    match=("status",),
)


@api_route(
    "/creators",
    "POST",
    summary="Add a creator",
    tag="creators",
    request=CREATOR_INPUT,
    response=CREATOR,
    status=201,
)
def create_creator() -> ResponseReturnValue:
    creator = service.create_creator(current_tenant(), json_body(CREATOR_INPUT))
    return saved(creator_json, creator, status=201)


read_route(
    "/creators/<int:creator_id>",
    Creator,
    creator_json,
    name="get_creator",
    summary="Read a creator",
    tag="creators",
    response=CREATOR,
)


@api_route(
    "/creators/<int:creator_id>",
    "PATCH",
    summary="Update a creator; pausing or terminating deactivates their discount codes",
    tag="creators",
    request=CREATOR_INPUT,
    partial=True,
    response=CREATOR,
)
def update_creator(creator_id: int) -> ResponseReturnValue:
    creator = owned_or_404(Creator, creator_id)
    service.update_creator(current_tenant(), creator, json_body(CREATOR_INPUT, partial=True))
    return saved(creator_json, creator)


@api_route(
    "/creators/<int:creator_id>/balance",
    "GET",
    summary="A creator's held, available, in-payout and paid sums",
    tag="creators",
    response=BALANCE,
)
def get_creator_balance(creator_id: int) -> ResponseReturnValue:
    creator = owned_or_404(Creator, creator_id)
    tenant = current_tenant()
    balance = creator_balances(get_session(), tenant.shop_id, creator_id=creator.id).get(creator.id)
    currency = balance.currency if balance else g.shop.currency
    return jsonify(
        creator_id=creator.id,
        currency=currency,
        held_minor=balance.held_minor if balance else 0,
        available_minor=balance.available_minor if balance else 0,
        in_payout_minor=balance.in_payout_minor if balance else 0,
        paid_minor=balance.paid_minor if balance else 0,
    )


@api_route(
    "/creators/<int:creator_id>/portal-link",
    "POST",
    summary="Issue the creator's private earnings page link (replaces the previous one)",
    tag="creators",
    response=PORTAL_LINK,
    status=201,
)
def issue_portal_link(creator_id: int) -> ResponseReturnValue:
    creator = owned_or_404(Creator, creator_id)
    token = service.issue_portal_token(current_tenant(), creator)
    commit()
    base = current_app.config["TASTEMAKER"].public_url.rstrip("/")
    return jsonify(creator_id=creator.id, url=f"{base}/creator/{token}"), 201


CREATOR_IMPORT_INPUT = Schema(
    "CreatorImportInput",
    (
        Field(
            "csv",
            "string",
            required=True,
            min_length=1,
            max_length=creator_import.MAX_BYTES,
            description="the file's text; first line names the columns: "
            + ",".join(creator_import.COLUMNS)
            + " (customer_ids separated by ;)",
        ),
        Field("dry_run", "boolean", description="only say what would happen (default false)"),
    ),
)
CREATOR_IMPORT = component(
    "CreatorImportResult",
    obj(
        {
            "dry_run": BOOL,
            "created": INT,
            "updated": INT,
            "unchanged": INT,
            "rows": {
                "type": "array",
                "items": obj(
                    {
                        "line": INT,
                        "handle": STR,
                        "action": {"type": "string", "enum": ["create", "update", "unchanged"]},
                        "changes": {"type": "array", "items": STR},
                    }
                ),
            },
        }
    ),
)


@api_route(
    "/creators/import",
    "POST",
    summary="Add or update creators from CSV text, all rows or none; per-line errors as 422 "
    "fields ('line 3: email'); importing the same file again changes nothing",
    tag="creators",
    request=CREATOR_IMPORT_INPUT,
    response=CREATOR_IMPORT,
)
def import_creators() -> ResponseReturnValue:
    values = json_body(CREATOR_IMPORT_INPUT)
    tenant = current_tenant()
    plan = creator_import.plan_import(tenant, values["csv"])
    if plan.errors:
        raise ValidationFailed(plan.as_fields())
    dry_run = bool(values.get("dry_run", False))
    if not dry_run:
        creator_import.apply_import(tenant, plan)
        commit()
    return jsonify(
        dry_run=dry_run,
        created=plan.count("create"),
        updated=plan.count("update"),
        unchanged=plan.count("unchanged"),
        rows=[
            {
                "line": row.line,
                "handle": row.handle,
                "action": row.action,
                "changes": list(row.changes),
            }
            for row in plan.rows
        ],
    )
