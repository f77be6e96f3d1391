"""Lift tests (incrementality experiments): configure, launch, end, and read the result."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.models import LiftTest, Shop
from plugin.services import lift as service
from plugin.services.lift_results import guidance, lift_result
from plugin.web.admin_api.base import (
    api_route,
    iso,
    json_body,
    list_route,
    owned_or_404,
    saved,
)
from plugin.web.admin_api.lift_tests_io import (
    LIFT_QUERY,
    LIFT_TEST,
    LIFT_TEST_DETAIL,
    LIFT_TEST_INPUT,
    LIFT_TEST_UPDATE,
    guidance_json,
    result_json,
    test_json,
)
from plugin.web.auth import current_tenant


def detail_json(test: LiftTest) -> dict[str, Any]:
    session = get_session()
    tenant = current_tenant()
    shop = session.get(Shop, tenant.shop_id)
    currency = shop.currency if shop is not None else "USD"
    result = lift_result(session, test) if test.launched_at is not None else None
    return {
        **test_json(test),
        "guidance": guidance_json(guidance(session, test)),
        "assignments": [
            {
                "creator_id": row.creator_id,
                "wave": row.wave,
                "day": row.day,
                "starts_at": iso(row.starts_at),
                "activated_at": iso(row.activated_at),
            }
            for row in service.assignments(tenant, test.id)
        ],
        "result": result_json(result, currency) if result is not None else None,
    }


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    if "product_ids" in values:
        values["product_ids"] = [str(product) for product in values["product_ids"]]
    return values


list_route(
    "/lift-tests",
    LiftTest,
    test_json,
    name="list_lift_tests",
    summary="List lift tests",
    tag="lift-tests",
    response=LIFT_TEST,
    query=LIFT_QUERY,
    match=("campaign_id",),
)


@api_route(
    "/lift-tests",
    "POST",
    summary="Plan a lift test for a campaign (draft until launched)",
    tag="lift-tests",
    request=LIFT_TEST_INPUT,
    response=LIFT_TEST,
    status=201,
)
def create_lift_test() -> ResponseReturnValue:
    test = service.create_test(current_tenant(), _stored(json_body(LIFT_TEST_INPUT)))
    return saved(test_json, test, status=201)


@api_route(
    "/lift-tests/<int:test_id>",
    "GET",
    summary="A lift test with its guidance, wave assignment and result (95 % intervals)",
    tag="lift-tests",
    response=LIFT_TEST_DETAIL,
)
def get_lift_test(test_id: int) -> ResponseReturnValue:
    return jsonify(detail_json(owned_or_404(LiftTest, test_id)))


@api_route(
    "/lift-tests/<int:test_id>",
    "PATCH",
    summary="Change a draft lift test (refused once launched)",
    tag="lift-tests",
    request=LIFT_TEST_UPDATE,
    partial=True,
    response=LIFT_TEST,
    errors=(409,),
)
def update_lift_test(test_id: int) -> ResponseReturnValue:
    test = owned_or_404(LiftTest, test_id)
    values = _stored(json_body(LIFT_TEST_UPDATE, partial=True))
    service.update_test(current_tenant(), test, values)
    return saved(test_json, test)


@api_route(
    "/lift-tests/<int:test_id>/launch",
    "POST",
    summary="Launch: randomize once from the recorded seed, hold later waves, start",
    tag="lift-tests",
    response=LIFT_TEST,
    errors=(409,),
)
def launch_lift_test(test_id: int) -> ResponseReturnValue:
    test = owned_or_404(LiftTest, test_id)
    service.launch(current_tenant(), test)
    return saved(test_json, test)


@api_route(
    "/lift-tests/<int:test_id>/end",
    "POST",
    summary="End a running lift test; creators still waiting for their wave go live",
    tag="lift-tests",
    response=LIFT_TEST,
    errors=(409,),
)
def end_lift_test(test_id: int) -> ResponseReturnValue:
    test = owned_or_404(LiftTest, test_id)
    service.end(current_tenant(), test)
    return saved(test_json, test)
