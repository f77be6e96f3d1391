"""Creators: list (search, status filter, pages), add, edit, pause/resume/archive, earnings link,
and one creator's page with their codes, links, balance and charts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.creator_input import CREATOR_INPUT, CREATOR_STATUSES, PAYOUT_METHODS
from plugin.domain.validation import ValidationFailed
from plugin.models import Creator, DiscountCode, ReferralLink
from plugin.services import creator_directory, overview
from plugin.services import creators as creator_service
from plugin.services.payouts import creator_balances
from plugin.web import admin_auth
from plugin.web.merchant import bp
from plugin.web.merchant.forms import INVALID_FORM, form_errors, form_values, paginate, query_args
from plugin.web.merchant.performance import program_charts, today_in_shop

SOCIAL = ("instagram", "tiktok", "youtube")
FORM_FIELDS = ("handle", "name", "email", "niche", "audience_size", "payout_email")


@bp.get("/admin/creators")
@admin_auth.admin_page
def creators() -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    search = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    if status not in CREATOR_STATUSES:
        status = ""
    page = paginate(
        get_session(),
        creator_directory.creator_list(tenant, search=search, status=status),
        request.args.get("page", 1, type=int),
    )
    ids = [creator.id for (creator,) in page.rows]
    rows = {
        row.creator.id: row
        for row in overview.creator_rows(get_session(), tenant.shop_id, creator_ids=ids)
    }
    return render_template(
        "merchant/creators.html",
        shop=admin_auth.current_shop(),
        page=page,
        rows=[rows[creator_id] for creator_id in ids if creator_id in rows],
        search=search,
        status=status,
        statuses=CREATOR_STATUSES,
        args=query_args(request.args, "q", "status"),
    )


def _values(form: Any, partial: bool) -> dict[str, Any]:
    values = form_values(CREATOR_INPUT, form, shop=admin_auth.current_shop(), partial=partial)
    social = {name: form.get(name, "").strip() for name in SOCIAL if form.get(name, "").strip()}
    values["social_handles"] = social
    return values


def _form_page(
    creator: Creator | None, errors: dict[str, str], form: Any, status: int = 200
) -> Any:
    return (
        render_template(
            "merchant/creator_form.html",
            shop=admin_auth.current_shop(),
            creator=creator,
            errors=errors,
            form=form,
            methods=[(m, m.replace("_", " ").capitalize()) for m in PAYOUT_METHODS],
            social=SOCIAL,
        ),
        status,
    )


def _form_from(creator: Creator) -> dict[str, Any]:
    form: dict[str, Any] = {name: getattr(creator, name) for name in FORM_FIELDS}
    form["payout_method"] = creator.payout_method
    form["customer_ids"] = ", ".join(creator.customer_ids)
    form.update({name: creator.social_handles.get(name, "") for name in SOCIAL})
    return form


@bp.get("/admin/creators/new")
@admin_auth.admin_page
def new_creator() -> ResponseReturnValue:
    return _form_page(None, {}, {"payout_method": "bank_transfer"})


@bp.post("/admin/creators/new")
@admin_auth.admin_action
def create_creator() -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    try:
        creator = creator_service.create_creator(tenant, _values(request.form, partial=False))
    except ValidationFailed as failed:
        get_session().rollback()
        return _form_page(None, form_errors(failed), request.form, INVALID_FORM)
    get_session().commit()
    flash(f"@{creator.handle} added. Next: create their discount code and a link.", "ok")
    return redirect(url_for("merchant.creator", creator_id=creator.id))


@bp.get("/admin/creators/<int:creator_id>/edit")
@admin_auth.admin_page
def edit_creator(creator_id: int) -> ResponseReturnValue:
    creator = admin_auth.owned_or_404(Creator, creator_id)
    return _form_page(creator, {}, _form_from(creator))


@bp.post("/admin/creators/<int:creator_id>/edit")
@admin_auth.admin_action
def update_creator(creator_id: int) -> ResponseReturnValue:
    creator = admin_auth.owned_or_404(Creator, creator_id)
    tenant = admin_auth.current_tenant()
    try:
        creator_service.update_creator(tenant, creator, _values(request.form, partial=True))
    except ValidationFailed as failed:
        get_session().rollback()
        return _form_page(
            admin_auth.owned_or_404(Creator, creator_id),
            form_errors(failed),
            request.form,
            INVALID_FORM,
        )
    get_session().commit()
    flash(f"@{creator.handle} saved.", "ok")
    return redirect(url_for("merchant.creator", creator_id=creator.id))


@bp.get("/admin/creators/<int:creator_id>")
@admin_auth.admin_page
def creator(creator_id: int) -> ResponseReturnValue:
    creator = admin_auth.owned_or_404(Creator, creator_id)
    shop = admin_auth.current_shop()
    tenant = admin_auth.current_tenant()
    days = request.args.get("days", 30, type=int)
    days = days if days in (7, 30, 90) else 30
    end = today_in_shop(shop)
    start = end - timedelta(days=days - 1)
    balance = creator_balances(get_session(), shop.id, creator_id=creator.id).get(creator.id)
    return render_template(
        "merchant/creator.html",
        shop=shop,
        creator=creator,
        days=days,
        codes=tenant.all(DiscountCode, DiscountCode.creator_id == creator.id),
        links=tenant.all(ReferralLink, ReferralLink.creator_id == creator.id),
        balance=balance,
        charts=program_charts(get_session(), shop, start, end, creator_id=creator.id),
        status_actions=creator_directory.STATUS_ACTIONS,
        agreement_url=f"/admin/creators/{creator.id}/agreement",
    )


@bp.get("/admin/creators/<int:creator_id>/status")
@admin_auth.admin_page
def confirm_status(creator_id: int) -> ResponseReturnValue:
    creator = admin_auth.owned_or_404(Creator, creator_id)
    target = request.args.get("to", "")
    if target not in creator_directory.STATUS_ACTIONS or target == creator.status:
        abort(404)
    if creator.status == "terminated":
        abort(404)
    lines = {
        "paused": [
            f"@{creator.handle}'s discount codes are deactivated in your store and their "
            "referral links stop counting visits. Their earned commissions stay in the ledger.",
            "You can resume them later; codes are then created again from the Codes page.",
        ],
        "terminated": [
            f"@{creator.handle} is archived: codes deactivated, links off, no new commissions.",
            "Archiving cannot be undone. Earned balances are still paid out.",
        ],
        "active": [
            f"@{creator.handle} becomes active again. Their links stay off until you "
            "turn them on; create a new discount code if they need one."
        ],
    }[target]
    return render_template(
        "merchant/confirm.html",
        shop=admin_auth.current_shop(),
        title=f"{creator_directory.STATUS_ACTIONS[target]} @{creator.handle}?",
        lines=lines,
        action=url_for("merchant.set_status", creator_id=creator.id),
        fields={"status": target},
        button=f"{creator_directory.STATUS_ACTIONS[target]} @{creator.handle}",
        danger=target != "active",
        cancel=url_for("merchant.creator", creator_id=creator.id),
    )


@bp.post("/admin/creators/<int:creator_id>/status")
@admin_auth.admin_action
def set_status(creator_id: int) -> ResponseReturnValue:
    creator = admin_auth.owned_or_404(Creator, creator_id)
    target = request.form.get("status", "")
    if target not in creator_directory.STATUS_ACTIONS:
        abort(400)
    try:
        links_off = creator_directory.set_status(admin_auth.current_tenant(), creator, target)
    except ValidationFailed as failed:
        get_session().rollback()
        flash("Status " + "; ".join(failed.fields.values()) + ".", "error")
        return redirect(url_for("merchant.creator", creator_id=creator_id))
    get_session().commit()
    if target == "active":
        flash(f"@{creator.handle} is active again.", "ok")
    else:
        flash(
            f"@{creator.handle} is {target}: codes are being deactivated in your store, "
            f"{links_off} link{'' if links_off == 1 else 's'} turned off.",
            "ok",
        )
    return redirect(url_for("merchant.creator", creator_id=creator_id))


@bp.get("/admin/creators/<int:creator_id>/earnings-link")
@admin_auth.admin_page
def confirm_earnings_link(creator_id: int) -> ResponseReturnValue:
    creator = admin_auth.owned_or_404(Creator, creator_id)
    lines = [
        f"@{creator.handle} opens this private page to see their earnings, codes and payouts.",
    ]
    if creator.portal_token_hash:
        lines.append("A new link replaces the current one: the old link stops working.")
    return render_template(
        "merchant/confirm.html",
        shop=admin_auth.current_shop(),
        title=("Rotate" if creator.portal_token_hash else "Create")
        + f" @{creator.handle}'s earnings link?",
        lines=lines,
        action=url_for("merchant.earnings_link", creator_id=creator.id),
        button="Rotate link" if creator.portal_token_hash else "Create link",
        danger=bool(creator.portal_token_hash),
        cancel=url_for("merchant.creator", creator_id=creator.id),
    )


@bp.post("/admin/creators/<int:creator_id>/earnings-link")
@admin_auth.admin_action
def earnings_link(creator_id: int) -> ResponseReturnValue:
    creator = admin_auth.owned_or_404(Creator, creator_id)
    token = creator_service.issue_portal_token(admin_auth.current_tenant(), creator)
    get_session().commit()
    url = f"{current_app.config['TASTEMAKER'].public_url.rstrip('/')}/creator/{token}"
    return render_template(
        "merchant/earnings_link.html", shop=admin_auth.current_shop(), creator=creator, url=url
    )
