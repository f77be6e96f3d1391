"""Try & Tag (on/off, terms, reward, review queue, rewards issued) and referral sprints (setup,
leaderboard, settlement)."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from plugin.db import get_session
from plugin.domain import reasons
from plugin.domain.validation import ValidationFailed
from plugin.models import Campaign, ReferralSprint, Reward, UgcPost
from plugin.services import rewards as reward_service
from plugin.services import sprints as sprint_service
from plugin.web import admin_auth
from plugin.web.merchant import bp
from plugin.web.merchant.forms import (
    INVALID_FORM,
    form_errors,
    form_values,
    local_date,
    money_text,
    paginate,
    parse_money,
)
from plugin.web.rewards_api_io import SETTINGS_INPUT, SPRINT_INPUT

# --- Try & Tag ----------------------------------------------------------------------------------


def _offer_text(kind: str, value: int, currency: str) -> str:
    if kind == "percentage":
        return reasons.percent(value).removesuffix("%")  # 1000 -> "10", 1250 -> "12.5"
    return money_text(value, currency)


def _program_form(errors: dict[str, str], form: Any, status: int = 200) -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    tenant = admin_auth.current_tenant()
    pending = get_session().scalar(
        select(func.count(UgcPost.id)).where(
            UgcPost.shop_id == shop.id,
            UgcPost.source == "try_and_tag",
            UgcPost.moderation_status == "pending",
        )
    )
    rewards = (
        get_session()
        .execute(
            select(Reward, UgcPost.author_handle)
            .join(UgcPost, UgcPost.id == Reward.ugc_post_id)
            .where(Reward.shop_id == tenant.shop_id)
            .order_by(Reward.id.desc())
            .limit(20)
        )
        .all()
    )
    public_url = current_app.config["TASTEMAKER"].public_url.rstrip("/")
    return (
        render_template(
            "merchant/try_and_tag.html",
            shop=shop,
            errors=errors,
            form=form,
            pending=pending or 0,
            rewards=rewards,
            form_url=f"{public_url}/try-and-tag/{shop.public_key}",
        ),
        status,
    )


@bp.get("/admin/try-and-tag")
@admin_auth.admin_page
def try_and_tag() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    program = reward_service.program_or_default(admin_auth.current_tenant())
    return _program_form(
        {},
        {
            "enabled": program.enabled,
            "discount_kind": program.discount_kind,
            "discount_value": _offer_text(
                program.discount_kind, program.discount_value, shop.currency
            ),
            "code_valid_days": program.code_valid_days,
            "code_prefix": program.code_prefix,
            "require_order": program.require_order,
            "terms": program.terms,
        },
    )


@bp.post("/admin/try-and-tag")
@admin_auth.admin_action
def save_try_and_tag() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    errors: dict[str, str] = {}
    data = request.form.copy()
    kind = data.get("discount_kind", "percentage")
    text = data.get("discount_value", "").strip()
    try:
        if kind == "percentage":
            try:
                percent = Decimal(text.rstrip("%"))
            except InvalidOperation:
                raise ValidationFailed(
                    {"discount_value": "must be a percentage, like 10"}
                ) from None
            if percent * 100 != int(percent * 100):
                raise ValidationFailed({"discount_value": "can have at most 2 decimals"})
            data["discount_value"] = str(int(percent * 100))
        else:
            data["discount_value"] = str(parse_money(text, shop.currency, "discount_value"))
    except ValidationFailed as failed:
        errors.update(failed.fields)
        data.pop("discount_value", None)
    try:
        values = form_values(SETTINGS_INPUT, data, shop=shop, partial=True)
    except ValidationFailed as failed:
        errors = {**form_errors(failed), **errors}
        values = {}
    if not errors:
        try:
            reward_service.save_program(admin_auth.current_tenant(), values)
        except ValidationFailed as failed:
            errors = form_errors(failed)
    if errors:
        get_session().rollback()
        return _program_form(errors, request.form, INVALID_FORM)
    get_session().commit()
    flash(
        "Try & Tag saved."
        + (" The form is open to shoppers." if values.get("enabled") else " The form is closed."),
        "ok",
    )
    return redirect(url_for("merchant.try_and_tag"))


# --- referral sprints ---------------------------------------------------------------------------


@bp.get("/admin/sprints")
@admin_auth.admin_page
def sprints() -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    page = paginate(
        get_session(),
        tenant.select(ReferralSprint).order_by(ReferralSprint.starts_at.desc()),
        request.args.get("page", 1, type=int),
    )
    return render_template(
        "merchant/sprints.html",
        shop=admin_auth.current_shop(),
        page=page,
        state=sprint_service.state,
    )


def _sprint_values(form: Any, partial: bool) -> dict[str, Any]:
    data = form.copy()
    # The last day is included on the page; the API's ends_at is exclusive: the next midnight.
    if data.get("ends_at"):
        with contextlib.suppress(ValueError):  # a malformed date is reported by form_values
            last_day = date.fromisoformat(data["ends_at"][:10])
            data["ends_at"] = (last_day + timedelta(days=1)).isoformat()
    return form_values(
        SPRINT_INPUT,
        data,
        shop=admin_auth.current_shop(),
        partial=partial,
        money=("credit_per_order_minor", "cap_per_creator_minor"),
    )


def _sprint_form(
    sprint: ReferralSprint | None, errors: dict[str, str], form: Any, status: int = 200
) -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    return (
        render_template(
            "merchant/sprint_form.html",
            shop=admin_auth.current_shop(),
            sprint=sprint,
            errors=errors,
            form=form,
            campaign_options=[("", "No campaign")] + [(c.id, c.name) for c in tenant.all(Campaign)],
        ),
        status,
    )


@bp.get("/admin/sprints/new")
@admin_auth.admin_page
def new_sprint() -> ResponseReturnValue:
    return _sprint_form(None, {}, {})


@bp.post("/admin/sprints/new")
@admin_auth.admin_action
def create_sprint() -> ResponseReturnValue:
    try:
        sprint = sprint_service.create_sprint(
            admin_auth.current_tenant(),
            admin_auth.current_shop(),
            _sprint_values(request.form, False),
        )
    except ValidationFailed as failed:
        get_session().rollback()
        return _sprint_form(None, form_errors(failed), request.form, INVALID_FORM)
    get_session().commit()
    flash(f"Sprint “{sprint.name}” set up.", "ok")
    return redirect(url_for("merchant.sprint", sprint_id=sprint.id))


@bp.get("/admin/sprints/<int:sprint_id>")
@admin_auth.admin_page
def sprint(sprint_id: int) -> ResponseReturnValue:
    sprint = admin_auth.owned_or_404(ReferralSprint, sprint_id)
    tenant = admin_auth.current_tenant()
    standings = sprint_service.leaderboard(get_session(), sprint)
    return render_template(
        "merchant/sprint.html",
        shop=admin_auth.current_shop(),
        sprint=sprint,
        state=sprint_service.state(sprint),
        standings=standings,
        handles=sprint_service.creator_handles(tenant, [s.creator_id for s in standings]),
        last_day=local_date(sprint.ends_at, admin_auth.current_shop()),
    )


@bp.get("/admin/sprints/<int:sprint_id>/edit")
@admin_auth.admin_page
def edit_sprint(sprint_id: int) -> ResponseReturnValue:
    sprint = admin_auth.owned_or_404(ReferralSprint, sprint_id)
    shop = admin_auth.current_shop()
    last_day = date.fromisoformat(local_date(sprint.ends_at, shop)) - timedelta(days=1)
    return _sprint_form(
        sprint,
        {},
        {
            "name": sprint.name,
            "starts_at": local_date(sprint.starts_at, shop),
            "ends_at": last_day.isoformat(),
            "credit_per_order_minor": money_text(sprint.credit_per_order_minor, shop.currency),
            "cap_per_creator_minor": money_text(sprint.cap_per_creator_minor, shop.currency)
            if sprint.cap_per_creator_minor
            else "",
            "campaign_id": sprint.campaign_id or "",
        },
    )


@bp.post("/admin/sprints/<int:sprint_id>/edit")
@admin_auth.admin_action
def update_sprint(sprint_id: int) -> ResponseReturnValue:
    sprint = admin_auth.owned_or_404(ReferralSprint, sprint_id)
    try:
        sprint_service.update_sprint(
            admin_auth.current_tenant(), sprint, _sprint_values(request.form, True)
        )
    except ValidationFailed as failed:
        get_session().rollback()
        return _sprint_form(
            admin_auth.owned_or_404(ReferralSprint, sprint_id),
            form_errors(failed),
            request.form,
            INVALID_FORM,
        )
    except sprint_service.SprintConflict as exc:
        get_session().rollback()
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("merchant.sprint", sprint_id=sprint_id))
    get_session().commit()
    flash("Sprint saved.", "ok")
    return redirect(url_for("merchant.sprint", sprint_id=sprint_id))


@bp.get("/admin/sprints/<int:sprint_id>/delete")
@admin_auth.admin_page
def confirm_delete_sprint(sprint_id: int) -> ResponseReturnValue:
    sprint = admin_auth.owned_or_404(ReferralSprint, sprint_id)
    return render_template(
        "merchant/confirm.html",
        shop=admin_auth.current_shop(),
        title=f"Delete the sprint “{sprint.name}”?",
        lines=["Nobody has been credited for it yet; the sprint and its leaderboard go away."],
        action=url_for("merchant.delete_sprint", sprint_id=sprint.id),
        button="Delete sprint",
        danger=True,
        cancel=url_for("merchant.sprint", sprint_id=sprint.id),
    )


@bp.post("/admin/sprints/<int:sprint_id>/delete")
@admin_auth.admin_action
def delete_sprint(sprint_id: int) -> ResponseReturnValue:
    sprint = admin_auth.owned_or_404(ReferralSprint, sprint_id)
    try:
        sprint_service.delete_sprint(admin_auth.current_tenant(), sprint)
    except sprint_service.SprintConflict as exc:
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("merchant.sprint", sprint_id=sprint_id))
    get_session().commit()
    flash("Sprint deleted.", "ok")
    return redirect(url_for("merchant.sprints"))


@bp.post("/admin/sprints/<int:sprint_id>/settle")
@admin_auth.admin_action
def settle_sprint(sprint_id: int) -> ResponseReturnValue:
    sprint = admin_auth.owned_or_404(ReferralSprint, sprint_id)
    try:
        sprint_service.request_settlement(admin_auth.current_tenant(), sprint)
    except sprint_service.SprintConflict as exc:
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("merchant.sprint", sprint_id=sprint_id))
    get_session().commit()
    flash("Settling: each creator's credit goes into the ledger in a moment.", "ok")
    return redirect(url_for("merchant.sprint", sprint_id=sprint_id))
