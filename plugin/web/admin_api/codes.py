"""Discount codes (created in the store by a job) and referral links."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from plugin.domain.validation import Field, Schema, ValidationFailed
from plugin.models import Campaign, Creator, DiscountCode, ReferralLink
from plugin.models.tracking import CODE_STATUSES
from plugin.services import creators as service
from plugin.services.links import InvalidLink, public_link_url
from plugin.services.links import create_link as create_link_row
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
    list_route,
    nullable,
    obj,
    owned_or_404,
    owned_or_invalid,
    read_route,
    saved,
)
from plugin.web.auth import current_tenant

CODE_PATTERN = r"[A-Za-z0-9_-]{3,64}"
CODE_HINT = "must be 3-64 letters, digits, _ or -"

COMBINES_WITH = Schema(
    "CombinesWith",
    (
        Field("order_discounts", "boolean"),
        Field("product_discounts", "boolean"),
        Field("shipping_discounts", "boolean"),
    ),
)
CODE_INPUT = Schema(
    "DiscountCodeInput",
    (
        Field("creator_id", "integer", required=True, minimum=1),
        Field("agreement_id", "integer", minimum=1, nullable=True),
        Field("code", "string", required=True, pattern=CODE_PATTERN, pattern_hint=CODE_HINT),
        Field("kind", "string", choices=("percentage", "fixed_amount")),
        Field(
            "value",
            "integer",
            required=True,
            minimum=1,
            description="basis points for percentage codes, minor units for fixed amounts",
        ),
        Field("currency", "currency"),
        Field("usage_limit", "integer", minimum=1, nullable=True),
        Field("once_per_customer", "boolean"),
        Field("starts_at", "datetime", nullable=True),
        Field("ends_at", "datetime", nullable=True),
        Field("combines_with", "object", items=COMBINES_WITH),
    ),
)
RETRY_INPUT = Schema(
    "DiscountCodeRetry",
    (
        Field(
            "code",
            "string",
            pattern=CODE_PATTERN,
            pattern_hint=CODE_HINT,
            description="a new name, e.g. one of the alternatives; default: the same code",
        ),
    ),
)
LINK_INPUT = Schema(
    "ReferralLinkInput",
    (
        Field("creator_id", "integer", required=True, minimum=1),
        Field(
            "target_path",
            "string",
            max_length=512,
            pattern=r"/(?![/\\])[^\s\\]*",
            pattern_hint="must be a path on the shop's own domain, starting with /",
        ),
        Field("campaign_id", "integer", minimum=1, nullable=True),
        Field("discount_code_id", "integer", minimum=1, nullable=True),
    ),
)

DISCOUNT_CODE = component(
    "DiscountCode",
    obj(
        {
            "id": INT,
            "creator_id": INT,
            "agreement_id": nullable(INT),
            "code": STR,
            "kind": {"type": "string", "enum": ["percentage", "fixed_amount"]},
            "value": INT,
            "currency": CURRENCY,
            "usage_limit": nullable(INT),
            "once_per_customer": BOOL,
            "starts_at": TIME,
            "ends_at": nullable(TIME),
            "combines_with": COMBINES_WITH.json_schema(),
            "status": {"type": "string", "enum": list(CODE_STATUSES)},
            "platform_id": nullable(STR),
            "error": nullable(STR),
            "alternatives": {"type": "array", "items": STR},
            "created_at": TIME,
        }
    ),
)
LINK = component(
    "ReferralLink",
    obj(
        {
            "id": INT,
            "creator_id": INT,
            "campaign_id": nullable(INT),
            "discount_code_id": nullable(INT),
            "slug": STR,
            "url": STR,
            "target_path": STR,
            "active": BOOL,
            "created_at": TIME,
        }
    ),
)
CODE_QUERY = (
    Field("creator_id", "integer", minimum=1),
    Field("status", "string", choices=CODE_STATUSES),
    *PAGE_QUERY,
)
LINK_QUERY = (Field("creator_id", "integer", minimum=1), *PAGE_QUERY)


def code_json(code: DiscountCode) -> dict[str, Any]:
    return {
        "id": code.id,
        "creator_id": code.creator_id,
        "agreement_id": code.agreement_id,
        "code": code.code,
        "kind": code.kind,
        "value": code.value,
        "currency": code.currency,
        "usage_limit": code.usage_limit,
        "once_per_customer": code.once_per_customer,
        "starts_at": iso(code.starts_at),
        "ends_at": iso(code.ends_at),
        "combines_with": dict(code.combines_with),
        "status": code.status,
        "platform_id": code.platform_id,
        "error": code.error,
        "alternatives": list(code.alternatives),
        "created_at": iso(code.created_at),
    }


def link_url(link: ReferralLink) -> str:
    return public_link_url(current_app.config["TASTEMAKER"].public_url, link.slug)


def link_json(link: ReferralLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "creator_id": link.creator_id,
        "campaign_id": link.campaign_id,
        "discount_code_id": link.discount_code_id,
        "slug": link.slug,
        "url": link_url(link),
        "target_path": link.target_path,
        "active": link.active,
        "created_at": iso(link.created_at),
    }


list_route(
    "/discount-codes",
    DiscountCode,
    code_json,
    name="list_discount_codes",
    summary="List discount codes with their store status (and alternatives when taken)",
    tag="discount-codes",
    response=DISCOUNT_CODE,
    query=CODE_QUERY,
    match=("creator_id", "status"),
)


@api_route(
    "/discount-codes",
    "POST",
    summary="Create a creator's discount code; it is created in the store by a background job",
    tag="discount-codes",
    request=CODE_INPUT,
    response=DISCOUNT_CODE,
    status=202,
)
def create_discount_code() -> ResponseReturnValue:
    values = json_body(CODE_INPUT)
    kind = values.setdefault("kind", "percentage")
    if kind == "percentage" and values["value"] > 10_000:
        raise ValidationFailed({"value": "must be between 1 and 10000 basis points"})
    code = service.create_discount_code(current_tenant(), values)
    return saved(code_json, code, status=202)


read_route(
    "/discount-codes/<int:code_id>",
    DiscountCode,
    code_json,
    name="get_discount_code",
    summary="Read a discount code",
    tag="discount-codes",
    response=DISCOUNT_CODE,
)


@api_route(
    "/discount-codes/<int:code_id>/retry",
    "POST",
    summary="Try a taken or failed code again, optionally under a new name",
    tag="discount-codes",
    request=RETRY_INPUT,
    response=DISCOUNT_CODE,
    status=202,
    errors=(409,),
)
def retry_discount_code(code_id: int) -> ResponseReturnValue:
    code = owned_or_404(DiscountCode, code_id)
    values = json_body(RETRY_INPUT)
    service.retry_discount_code(current_tenant(), code, values.get("code"))
    return saved(code_json, code, status=202)


@api_route(
    "/discount-codes/<int:code_id>/deactivate",
    "POST",
    summary="Deactivate a code in the store (done by a background job)",
    tag="discount-codes",
    response=DISCOUNT_CODE,
    status=202,
    errors=(409,),
)
def deactivate_discount_code(code_id: int) -> ResponseReturnValue:
    code = owned_or_404(DiscountCode, code_id)
    service.deactivate_discount_code(current_tenant(), code)
    return saved(code_json, code, status=202)


list_route(
    "/links",
    ReferralLink,
    link_json,
    name="list_links",
    summary="List referral links",
    tag="links",
    response=LINK,
    query=LINK_QUERY,
    match=("creator_id",),
)


@api_route(
    "/links",
    "POST",
    summary="Create a referral link /r/<slug> for a creator",
    tag="links",
    request=LINK_INPUT,
    response=LINK,
    status=201,
)
def create_link() -> ResponseReturnValue:
    values = json_body(LINK_INPUT)
    tenant = current_tenant()
    creator = owned_or_invalid(Creator, values["creator_id"], "creator_id")
    campaign_id = values.get("campaign_id")
    if campaign_id is not None:
        owned_or_invalid(Campaign, campaign_id, "campaign_id")
    code_id = values.get("discount_code_id")
    if code_id is not None:
        code = owned_or_invalid(DiscountCode, code_id, "discount_code_id")
        if code.creator_id != creator.id:
            raise ValidationFailed({"discount_code_id": "belongs to another creator"})
    try:
        link = create_link_row(
            tenant.session,
            tenant.shop_id,
            creator.id,
            target_path=values.get("target_path", "/"),
            campaign_id=campaign_id,
            discount_code_id=code_id,
        )
    except InvalidLink as exc:
        raise ValidationFailed({exc.field: exc.message}) from None
    return saved(link_json, link, status=201)


read_route(
    "/links/<int:link_id>",
    ReferralLink,
    link_json,
    name="get_link",
    summary="Read a referral link",
    tag="links",
    response=LINK,
)
