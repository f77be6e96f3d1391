"""The merchant's rewards API under /api/v1: Try & Tag settings and rewards, referral sprints.

Tenant-scoped like the rest of the admin API (require_shop + current_tenant: another shop's row
is simply not found) and documented in /openapi.json through `describe_operation`. Errors: 400
malformed JSON, 404 unknown, 409 a change the current state forbids, 422 field-level messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from plugin.domain.validation import ValidationFailed
from plugin.models import utcnow
from plugin.models.rewards import ReferralSprint
from plugin.models.ugc import Reward
from plugin.services import rewards as reward_service
from plugin.services import sprints as sprint_service
from plugin.web.admin_api.base import (
    API_PREFIX,
    PAGE_QUERY,
    MalformedJson,
    commit,
    describe_operation,
    iso,
    json_body,
    owned_or_404,
    page_json,
    paginate,
    query_values,
)
from plugin.web.auth import current_tenant, require_shop
from plugin.web.rewards_api_io import (
    LEADERBOARD,
    REWARD,
    REWARD_QUERY,
    SETTINGS,
    SETTINGS_INPUT,
    SPRINT,
    SPRINT_INPUT,
    rewards_json,
    settings_json,
    sprint_json,
)

bp = Blueprint("rewards_api", __name__)


def route(
    rule: str, method: str, *, summary: str, tag: str, **spec: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        operation = describe_operation(
            API_PREFIX + rule, method, operation_id=view.__name__, summary=summary, tag=tag, **spec
        )
        bp.add_url_rule(operation.rule, view.__name__, require_shop(view), methods=[method])
        return view

    return decorate


@bp.errorhandler(ValidationFailed)
def _validation(error: ValidationFailed) -> tuple[Response, int]:
    return jsonify(error="validation", fields=error.fields), 422


@bp.errorhandler(reward_service.RewardConflict)
@bp.errorhandler(sprint_service.SprintConflict)
def _conflict(error: Exception) -> tuple[Response, int]:
    return jsonify(error="conflict", message=str(error)), 409


@bp.errorhandler(NotFound)
def _not_found(_error: NotFound) -> tuple[Response, int]:
    return jsonify(error="not_found", message="no such resource in this shop"), 404


@bp.errorhandler(MalformedJson)
def _malformed(error: MalformedJson) -> tuple[Response, int]:
    return jsonify(error="malformed_json", message=str(error)), 400


# --- Try & Tag ----------------------------------------------------------------------------------


@route(
    "/try-and-tag/settings",
    "GET",
    summary="Read the shop's Try & Tag offer and its public form URL",
    tag="try-and-tag",
    response=SETTINGS,
)
def get_try_and_tag_settings() -> ResponseReturnValue:
    return jsonify(settings_json(reward_service.program_or_default(current_tenant()), g.shop))


@route(
    "/try-and-tag/settings",
    "PUT",
    summary="Change the Try & Tag offer (fields left out keep their value)",
    tag="try-and-tag",
    request=SETTINGS_INPUT,
    response=SETTINGS,
)
def put_try_and_tag_settings() -> ResponseReturnValue:
    program = reward_service.save_program(current_tenant(), json_body(SETTINGS_INPUT))
    commit()
    return jsonify(settings_json(program, g.shop))


@route(
    "/rewards",
    "GET",
    summary="List Try & Tag rewards, newest first",
    tag="try-and-tag",
    response=REWARD,
    query=REWARD_QUERY,
    paginated=True,
)
def list_rewards() -> ResponseReturnValue:
    params = query_values(REWARD_QUERY)
    criteria = [Reward.status == params["status"]] if "status" in params else []
    page = paginate(current_tenant().select(Reward, *criteria), Reward, params)
    return jsonify(data=rewards_json(page.rows), next_cursor=page.next_cursor)


@route(
    "/rewards/<int:reward_id>", "GET", summary="Read a reward", tag="try-and-tag", response=REWARD
)
def get_reward(reward_id: int) -> ResponseReturnValue:
    return jsonify(rewards_json([owned_or_404(Reward, reward_id)])[0])


@route(
    "/rewards/<int:reward_id>/retry",
    "POST",
    summary="Create a failed reward's code in the store again (by a background job)",
    tag="try-and-tag",
    response=REWARD,
    status=202,
    errors=(409,),
)
def retry_reward(reward_id: int) -> ResponseReturnValue:
    reward = owned_or_404(Reward, reward_id)
    reward_service.retry_reward(current_tenant(), reward)
    commit()
    return jsonify(rewards_json([reward])[0]), 202


# --- referral sprints ---------------------------------------------------------------------------


@route(
    "/sprints",
    "GET",
    summary="List referral sprints",
    tag="sprints",
    response=SPRINT,
    query=PAGE_QUERY,
    paginated=True,
)
def list_sprints() -> ResponseReturnValue:
    params = query_values(PAGE_QUERY)
    query = current_tenant().select(ReferralSprint)
    return page_json(paginate(query, ReferralSprint, params), sprint_json)


@route(
    "/sprints",
    "POST",
    summary="Create a referral sprint: a credit per attributed paid order placed in the window",
    tag="sprints",
    request=SPRINT_INPUT,
    response=SPRINT,
    status=201,
)
def create_sprint() -> ResponseReturnValue:
    sprint = sprint_service.create_sprint(current_tenant(), g.shop, json_body(SPRINT_INPUT))
    commit()
    return jsonify(sprint_json(sprint)), 201


@route("/sprints/<int:sprint_id>", "GET", summary="Read a sprint", tag="sprints", response=SPRINT)
def get_sprint(sprint_id: int) -> ResponseReturnValue:
    return jsonify(sprint_json(owned_or_404(ReferralSprint, sprint_id)))


@route(
    "/sprints/<int:sprint_id>",
    "PATCH",
    summary="Change a sprint that is not settled yet",
    tag="sprints",
    request=SPRINT_INPUT,
    partial=True,
    response=SPRINT,
    errors=(409,),
)
def update_sprint(sprint_id: int) -> ResponseReturnValue:
    sprint = owned_or_404(ReferralSprint, sprint_id)
    values = json_body(SPRINT_INPUT, partial=True)
    sprint_service.update_sprint(current_tenant(), sprint, values)
    commit()
    return jsonify(sprint_json(sprint))


@route(
    "/sprints/<int:sprint_id>",
    "DELETE",
    summary="Delete a sprint that is not settled",
    tag="sprints",
    status=204,
    errors=(409,),
)
def delete_sprint(sprint_id: int) -> ResponseReturnValue:
    sprint_service.delete_sprint(current_tenant(), owned_or_404(ReferralSprint, sprint_id))
    commit()
    return "", 204


@route(
    "/sprints/<int:sprint_id>/leaderboard",
    "GET",
    summary="Live standings: qualifying orders and credit per creator so far",
    tag="sprints",
    response=LEADERBOARD,
)
def sprint_leaderboard(sprint_id: int) -> ResponseReturnValue:
    sprint = owned_or_404(ReferralSprint, sprint_id)
    now = utcnow()
    tenant = current_tenant()
    standings = sprint_service.leaderboard(tenant.session, sprint, now)
    handles = sprint_service.creator_handles(tenant, [s.creator_id for s in standings])
    return jsonify(
        sprint_id=sprint.id,
        status=sprint_service.state(sprint, now),
        as_of=iso(min(now, sprint.ends_at)),
        currency=sprint.currency,
        total_credit_minor=sum(s.credit_minor for s in standings),
        entries=[
            {
                "rank": s.rank,
                "creator_id": s.creator_id,
                "handle": handles.get(s.creator_id, ""),
                "orders": s.orders,
                "credit_minor": s.credit_minor,
            }
            for s in standings
        ],
    )


@route(
    "/sprints/<int:sprint_id>/settle",
    "POST",
    summary="Settle an ended sprint now (a background job posts one bonus per creator)",
    tag="sprints",
    response=SPRINT,
    status=202,
    errors=(409,),
)
def settle_sprint(sprint_id: int) -> ResponseReturnValue:
    sprint = owned_or_404(ReferralSprint, sprint_id)
    sprint_service.request_settlement(current_tenant(), sprint)
    commit()
    return jsonify(sprint_json(sprint)), 202
