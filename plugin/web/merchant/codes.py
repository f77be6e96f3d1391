"""Codes and links: a creator's discount codes in the store (pending -> active, or taken with
alternatives to pick), deactivation; referral links to a product path with their live URL, copy
button and clicks."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from plugin.db import get_session
from plugin.domain.validation import ValidationFailed
from plugin.models import Campaign, Click, Creator, DiscountCode, ReferralLink
from plugin.models.tracking import CODE_STATUSES
from plugin.services import creators as creator_service
from plugin.services.links import InvalidLink, create_link, public_link_url, set_link_active
from plugin.web import admin_auth
from plugin.web.admin_api.codes import CODE_INPUT, LINK_INPUT
from plugin.web.merchant import bp
from plugin.web.merchant.forms import (
    INVALID_FORM,
    form_errors,
    form_values,
    paginate,
    parse_money,
    query_args,
)


def _creators() -> list[Creator]:
    return admin_auth.current_tenant().all(Creator, Creator.status == "active")


def _creator_filter() -> int | None:
    value = request.args.get("creator_id", type=int)
    return value if value and admin_auth.current_tenant().get(Creator, value) else None


@bp.get("/admin/codes")
@admin_auth.admin_page
def codes() -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    creator_id = _creator_filter()
    status = request.args.get("status", "")
    search = request.args.get("q", "").strip()[:64]
    statement = (
        select(DiscountCode, Creator.handle)
        .join(Creator, Creator.id == DiscountCode.creator_id)
        .where(DiscountCode.shop_id == tenant.shop_id)
        .order_by(DiscountCode.id.desc())
    )
    if creator_id:
        statement = statement.where(DiscountCode.creator_id == creator_id)
    if status in CODE_STATUSES:
        statement = statement.where(DiscountCode.status == status)
    if search:
        statement = statement.where(DiscountCode.code_normalized.like(f"%{search.lower()}%"))
    page = paginate(get_session(), statement, request.args.get("page", 1, type=int))
    return render_template(
        "merchant/codes.html",
        shop=admin_auth.current_shop(),
        page=page,
        creators=tenant.all(Creator),
        creator_id=creator_id,
        status=status,
        statuses=CODE_STATUSES,
        search=search,
        args=query_args(request.args, "creator_id", "status", "q"),
    )


def _code_values(form: Any) -> dict[str, Any]:
    """The form's values in the API's shape: percent -> basis points, amounts -> minor units."""
    shop = admin_auth.current_shop()
    raw = {
        key: form.get(key, "") for key in ("creator_id", "code", "kind", "usage_limit", "ends_at")
    }
    data: MultiDict[str, str] = MultiDict({k: v for k, v in raw.items() if v != ""})
    if "once_per_customer__present" in form:
        data["once_per_customer__present"] = "1"
        if form.get("once_per_customer"):
            data["once_per_customer"] = "on"
    errors: dict[str, str] = {}
    value_text = form.get("value", "").strip()
    kind = form.get("kind", "percentage")
    value: int | None = None
    if not value_text:
        errors["value"] = "is required"
    elif kind == "percentage":
        try:
            percent = Decimal(value_text.rstrip("%"))
            value = int(percent * 100)
            if percent * 100 != value or not 0 < value <= 10_000:
                raise InvalidOperation
        except InvalidOperation:
            errors["value"] = "must be a percentage between 0.01 and 100"
    else:
        try:
            value = parse_money(value_text, shop.currency, "value")
        except ValidationFailed as failed:
            errors.update(failed.fields)
    data["value"] = str(value or 1)
    try:
        values = form_values(CODE_INPUT, data, shop=shop)
    except ValidationFailed as failed:
        errors = {**failed.fields, **errors}
        values = {}
    if errors:
        raise ValidationFailed(errors)
    return values


def _code_form(errors: dict[str, str], form: Any, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "merchant/code_form.html",
            shop=admin_auth.current_shop(),
            creators=_creators(),
            creator_options=[(c.id, f"@{c.handle}") for c in _creators()],
            errors=errors,
            form=form,
        ),
        status,
    )


@bp.get("/admin/codes/new")
@admin_auth.admin_page
def new_code() -> ResponseReturnValue:
    creator_id = request.args.get("creator_id", "")
    creator = (
        admin_auth.current_tenant().get(Creator, int(creator_id)) if creator_id.isdigit() else None
    )
    suggestion = (
        (creator.handle.replace(".", "").replace("-", "").upper()[:12] + "15") if creator else ""
    )
    return _code_form(
        {}, {"creator_id": creator_id, "kind": "percentage", "value": "15", "code": suggestion}
    )


@bp.post("/admin/codes/new")
@admin_auth.admin_action
def create_code() -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    try:
        code = creator_service.create_discount_code(tenant, _code_values(request.form))
    except ValidationFailed as failed:
        get_session().rollback()
        return _code_form(form_errors(failed), request.form, INVALID_FORM)
    get_session().commit()
    flash(f"{code.code} is being created in your store; its status updates here.", "ok")
    return redirect(url_for("merchant.codes", creator_id=code.creator_id))


@bp.post("/admin/codes/<int:code_id>/retry")
@admin_auth.admin_action
def retry_code(code_id: int) -> ResponseReturnValue:
    code = admin_auth.owned_or_404(DiscountCode, code_id)
    new_name = request.form.get("code", "").strip() or None
    try:
        creator_service.retry_discount_code(admin_auth.current_tenant(), code, new_name)
    except (ValidationFailed, creator_service.InvalidTransition) as exc:
        get_session().rollback()
        message = "; ".join(exc.fields.values()) if isinstance(exc, ValidationFailed) else str(exc)
        flash(f"Could not retry: {message}.", "error")
        return redirect(url_for("merchant.codes"))
    get_session().commit()
    flash(f"{code.code} is being created in your store.", "ok")
    return redirect(url_for("merchant.codes", creator_id=code.creator_id))


@bp.get("/admin/codes/<int:code_id>/deactivate")
@admin_auth.admin_page
def confirm_deactivate_code(code_id: int) -> ResponseReturnValue:
    code = admin_auth.owned_or_404(DiscountCode, code_id)
    return render_template(
        "merchant/confirm.html",
        shop=admin_auth.current_shop(),
        title=f"Deactivate {code.code}?",
        lines=[
            f"Shoppers can no longer use {code.code} at checkout. Orders already placed keep "
            "their commission.",
            "A deactivated code cannot be turned back on; create a new one instead.",
        ],
        action=url_for("merchant.deactivate_code", code_id=code.id),
        button=f"Deactivate {code.code}",
        danger=True,
        cancel=url_for("merchant.codes"),
    )


@bp.post("/admin/codes/<int:code_id>/deactivate")
@admin_auth.admin_action
def deactivate_code(code_id: int) -> ResponseReturnValue:
    code = admin_auth.owned_or_404(DiscountCode, code_id)
    try:
        creator_service.deactivate_discount_code(admin_auth.current_tenant(), code)
    except creator_service.InvalidTransition as exc:
        flash(f"{code.code}: {exc}.", "error")
        return redirect(url_for("merchant.codes"))
    get_session().commit()
    flash(f"{code.code} is being deactivated in your store.", "ok")
    return redirect(url_for("merchant.codes", creator_id=code.creator_id))


# --- links ------------------------------------------------------------------------------------


@bp.get("/admin/links")
@admin_auth.admin_page
def links() -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    creator_id = _creator_filter()
    statement = (
        select(ReferralLink, Creator.handle, Campaign.name)
        .join(Creator, Creator.id == ReferralLink.creator_id)
        .outerjoin(Campaign, Campaign.id == ReferralLink.campaign_id)
        .where(ReferralLink.shop_id == tenant.shop_id)
        .order_by(ReferralLink.id.desc())
    )
    if creator_id:
        statement = statement.where(ReferralLink.creator_id == creator_id)
    page = paginate(get_session(), statement, request.args.get("page", 1, type=int))
    ids = [row[0].id for row in page.rows]
    clicks = dict(
        get_session()
        .execute(
            select(Click.link_id, func.count(Click.id))
            .where(Click.shop_id == tenant.shop_id, Click.link_id.in_(ids))
            .group_by(Click.link_id)
        )
        .all()
    )
    public_url = current_app.config["TASTEMAKER"].public_url
    return render_template(
        "merchant/links.html",
        shop=admin_auth.current_shop(),
        page=page,
        clicks=clicks,
        url_of=lambda link: public_link_url(public_url, link.slug),
        creators=tenant.all(Creator),
        creator_id=creator_id,
        args=query_args(request.args, "creator_id"),
    )


def _link_form(errors: dict[str, str], form: Any, status: int = 200) -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    return (
        render_template(
            "merchant/link_form.html",
            shop=admin_auth.current_shop(),
            creators=_creators(),
            creator_options=[(c.id, f"@{c.handle}") for c in _creators()],
            campaign_options=[(c.id, c.name) for c in tenant.all(Campaign)],
            code_options=[
                (code.id, code.code)
                for code in tenant.all(DiscountCode, DiscountCode.status.in_(("active", "pending")))
            ],
            errors=errors,
            form=form,
        ),
        status,
    )


@bp.get("/admin/links/new")
@admin_auth.admin_page
def new_link() -> ResponseReturnValue:
    return _link_form(
        {},
        {
            "creator_id": request.args.get("creator_id", ""),
            "campaign_id": request.args.get("campaign_id", ""),
            "target_path": "/",
        },
    )


@bp.post("/admin/links/new")
@admin_auth.admin_action
def create_link_page() -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    try:
        values = form_values(LINK_INPUT, request.form, shop=admin_auth.current_shop())
        creator = tenant.get(Creator, values["creator_id"])
        if creator is None:
            raise ValidationFailed({"creator_id": "does not exist in this shop"})
        for field, model in (("campaign_id", Campaign), ("discount_code_id", DiscountCode)):
            row = tenant.get(model, values[field]) if values.get(field) else None
            if values.get(field) and row is None:
                raise ValidationFailed({field: "does not exist in this shop"})
            if field == "discount_code_id" and row is not None and row.creator_id != creator.id:
                raise ValidationFailed({field: "belongs to another creator"})
        link = create_link(
            tenant.session,
            tenant.shop_id,
            creator.id,
            target_path=values.get("target_path") or "/",
            campaign_id=values.get("campaign_id"),
            discount_code_id=values.get("discount_code_id"),
        )
    except InvalidLink as exc:
        get_session().rollback()
        return _link_form({exc.field: exc.message}, request.form, INVALID_FORM)
    except ValidationFailed as failed:
        get_session().rollback()
        return _link_form(form_errors(failed), request.form, INVALID_FORM)
    get_session().commit()
    flash(f"Link /r/{link.slug} created.", "ok")
    return redirect(url_for("merchant.links", creator_id=link.creator_id))


@bp.get("/admin/links/<int:link_id>/deactivate")
@admin_auth.admin_page
def confirm_deactivate_link(link_id: int) -> ResponseReturnValue:
    link = admin_auth.owned_or_404(ReferralLink, link_id)
    return render_template(
        "merchant/confirm.html",
        shop=admin_auth.current_shop(),
        title=f"Turn off /r/{link.slug}?",
        lines=[
            "Visitors still reach your store, but the visit is no longer counted or credited.",
            "You can turn the link back on later.",
        ],
        action=url_for("merchant.set_link", link_id=link.id),
        fields={"active": "0"},
        button="Turn off link",
        danger=True,
        cancel=url_for("merchant.links"),
    )


@bp.post("/admin/links/<int:link_id>/active")
@admin_auth.admin_action
def set_link(link_id: int) -> ResponseReturnValue:
    link = admin_auth.owned_or_404(ReferralLink, link_id)
    active = request.form.get("active") == "1"
    set_link_active(get_session(), link.shop_id, link.id, active)
    get_session().commit()
    flash(f"/r/{link.slug} is {'on' if active else 'off'}.", "ok")
    return redirect(url_for("merchant.links", creator_id=link.creator_id))
