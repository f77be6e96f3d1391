"""Merchant pages for contracts: agreements, their versions and acceptance, deliverable review,
and the flat fees owed and when.

- /admin/contracts: every agreement, the work waiting for review or due, upcoming flat fees.
- /admin/creators/<id>/agreement: a creator's terms (edit with inline errors), version history,
  acceptance status, the deliverables and the agreement's own flat fees.
- /admin/deliverables/<id>: a submission with its disclosure result and audit trail; approve or
  ask for changes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from plugin.db import get_session
from plugin.domain.contracts import DeliverableTransitionError, document
from plugin.domain.validation import ValidationFailed
from plugin.models import (
    Agreement,
    Campaign,
    Creator,
    Deliverable,
    DiscountCode,
    ReferralLink,
    Shop,
    utcnow,
)
from plugin.services import agreements as agreement_service
from plugin.services import creators as creator_service
from plugin.services import deliverables as deliverable_service
from plugin.services.contract_payments import booked_flat_fees, upcoming_payments
from plugin.services.ledger import shop_timezone
from plugin.tenancy import Tenant
from plugin.web import admin_auth, contract_forms, rendering
from plugin.web.admin_api.agreements import AGREEMENT_UPDATE

bp = Blueprint("contracts_admin", __name__)
rendering.install(bp)

PAGE_SIZE = 25
SCHEDULE_LABELS = {
    "on_signing": "on signing",
    "monthly": "monthly",
    "on_delivery": "per approved deliverable",
    "on_completion": "on completion",
}
ACCEPTANCE_LABELS = {
    "not_required": ("none", "no acceptance needed"),
    "unsigned": ("pending", "waiting for the creator"),
    "awaiting": ("pending", "new version to accept"),
    "accepted": ("active", "accepted"),
}


def _common(shop: Shop) -> dict[str, Any]:
    return {
        "shop": shop,
        "schedule_labels": SCHEDULE_LABELS,
        "acceptance_labels": ACCEPTANCE_LABELS,
        "acceptance_state": agreement_service.acceptance_state,
    }


@bp.get("/admin/contracts")
@admin_auth.admin_page
def overview() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    tenant = admin_auth.current_tenant()
    db = get_session()
    page = max(request.args.get("page", type=int) or 1, 1)
    query = request.args.get("q", "").strip()[:64]
    criteria = [Agreement.shop_id == shop.id]
    if query:
        pattern = f"%{query.lower()}%"
        criteria.append(
            func.lower(Creator.handle).like(pattern) | func.lower(Creator.name).like(pattern)
        )
    rows = db.execute(
        select(Agreement, Creator, Campaign)
        .join(Creator, Creator.id == Agreement.creator_id)
        .outerjoin(Campaign, Campaign.id == Agreement.campaign_id)
        .where(*criteria)
        .order_by(Agreement.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    creators = {c.id: c for c in tenant.all(Creator)}
    signed = set(db.scalars(select(Agreement.creator_id).where(Agreement.shop_id == shop.id)))
    # Affiliates (a code or a link) without terms; UGC-only authors are not offered here.
    affiliates = set(
        db.scalars(select(DiscountCode.creator_id).where(DiscountCode.shop_id == shop.id))
    ) | set(db.scalars(select(ReferralLink.creator_id).where(ReferralLink.shop_id == shop.id)))
    open_work = deliverable_service.open_work(tenant)
    upcoming = upcoming_payments(db, shop, utcnow())
    return render_template(
        "contracts/admin_overview.html",
        **_common(shop),
        agreements=rows[:PAGE_SIZE],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        query=query,
        to_review=[d for d in open_work if d.status == "submitted"],
        due=[d for d in open_work if d.status != "submitted"],
        creators=creators,
        upcoming=upcoming,
        upcoming_total=sum(p.amount_minor for p in upcoming),
        booked=booked_flat_fees(db, shop.id, limit=10),
        tz=shop_timezone(shop),
        now=utcnow(),
        live_on_acceptance=agreement_service.shop_live_on_acceptance(shop),
        without=[
            c
            for c in creators.values()
            if c.status == "active" and c.id in affiliates and c.id not in signed
        ],
    )


@bp.post("/admin/contracts/settings")
@admin_auth.admin_action
def save_settings() -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    choice = request.form.get("live_on_acceptance")
    if choice not in ("yes", "no"):
        flash("Choose when codes and links go live.", "error")
        return redirect(url_for("contracts_admin.overview"))
    agreement_service.set_shop_live_on_acceptance(shop, choice == "yes")
    get_session().commit()
    flash(
        "New codes and links now wait for the creator's acceptance."
        if choice == "yes"
        else "New codes and links now go live at once.",
        "ok",
    )
    return redirect(url_for("contracts_admin.overview"))


def _creator_or_404(tenant: Tenant, creator_id: int) -> Creator:
    creator = tenant.get(Creator, creator_id)
    if creator is None:
        abort(404)
    return creator


def _chosen(tenant: Tenant, creator: Creator, agreement_id: int | None) -> Agreement | None:
    mine = tenant.all(Agreement, Agreement.creator_id == creator.id)
    if agreement_id is not None:
        chosen = next((a for a in mine if a.id == agreement_id), None)
        if chosen is None:
            abort(404)
        return chosen
    return max(mine, key=lambda a: a.id) if mine else None


@bp.get("/admin/creators/<int:creator_id>/agreement")
@admin_auth.admin_page
def agreement_page(creator_id: int) -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    tenant = admin_auth.current_tenant()
    creator = _creator_or_404(tenant, creator_id)
    agreement = None
    if not request.args.get("new"):
        agreement = _chosen(tenant, creator, request.args.get("agreement", type=int))
    terms = agreement_service.latest_terms(tenant, agreement) if agreement else None
    currency = agreement.currency if agreement else shop.currency
    form = contract_forms.from_agreement(agreement, terms, currency, shop_timezone(shop))
    return _render_agreement(shop, tenant, creator, agreement, form)


def _render_agreement(
    shop: Shop,
    tenant: Tenant,
    creator: Creator,
    agreement: Agreement | None,
    form: contract_forms.AgreementForm,
    status: int = 200,
) -> ResponseReturnValue:
    db = get_session()
    context: dict[str, Any] = {
        **_common(shop),
        "creator": creator,
        "agreement": agreement,
        "form": form,
        "channels": contract_forms.CHANNELS,
        "others": tenant.all(Agreement, Agreement.creator_id == creator.id),
        "campaigns": {c.id: c for c in tenant.all(Campaign)},
        "tz": shop_timezone(shop),
        "now": utcnow(),
        "shop_live_on_acceptance": agreement_service.shop_live_on_acceptance(shop),
    }
    if agreement is not None:
        accepted = {a.version_number: a for a in agreement_service.acceptances(tenant, agreement)}
        context.update(
            versions=[
                (
                    version,
                    accepted.get(version.number),
                    document(version.terms, hold_days=shop.hold_days),
                )
                for version in agreement_service.versions(tenant, agreement)
            ],
            deliverables=deliverable_service.for_agreement(tenant, agreement.id),
            upcoming=upcoming_payments(db, shop, utcnow(), agreement_id=agreement.id),
            booked=booked_flat_fees(db, shop.id, agreement_id=agreement.id),
            held=agreement_service.held_items(tenant, creator.id),
        )
    return render_template("contracts/admin_agreement.html", **context), status


@bp.post("/admin/creators/<int:creator_id>/agreement")
@admin_auth.admin_action
def save_agreement(creator_id: int) -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    tenant = admin_auth.current_tenant()
    creator = _creator_or_404(tenant, creator_id)
    agreement_id = request.form.get("agreement_id", type=int)
    agreement = _chosen(tenant, creator, agreement_id) if agreement_id else None
    form = contract_forms.from_request(request.form, request.form.getlist("channels"))
    tz = shop_timezone(shop)
    rows: dict[str, list[int]] = {"deliverables": [], "bonus_tiers": []}
    try:
        values, rows = contract_forms.strip_rows(
            contract_forms.to_values(form, agreement.currency if agreement else shop.currency, tz)
        )
        clean = AGREEMENT_UPDATE.validate(values)
        clean = _json_ready(clean)
        if agreement is None:
            campaign_id = request.form.get("campaign_id", type=int)
            agreement = creator_service.create_agreement(
                tenant, {"creator_id": creator.id, "campaign_id": campaign_id, **clean}
            )
            message = "Agreement created: the creator can read and accept it on their page."
        else:
            before = agreement.terms_version
            creator_service.update_agreement(tenant, agreement, clean)
            if agreement.terms_version == before:
                message = "Saved (no change to the terms, so no new version)."
            elif agreement.accepted_version:
                message = (
                    f"Saved as version {agreement.terms_version}: the creator must accept it; "
                    f"until then version {agreement.accepted_version} stays in force."
                )
            else:
                message = f"Saved as version {agreement.terms_version}: the creator must accept it."
    except ValidationFailed as failed:
        get_session().rollback()
        if not form.errors:
            form.errors = contract_forms.form_errors(failed, rows)
        agreement = _chosen(tenant, creator, agreement_id) if agreement_id else None
        flash("Please correct the fields marked below.", "error")
        return _render_agreement(shop, tenant, creator, agreement, form, status=422)
    get_session().commit()
    flash(message, "ok")
    return redirect(
        url_for("contracts_admin.agreement_page", creator_id=creator.id, agreement=agreement.id)
    )


@bp.get("/admin/creators/<int:creator_id>/agreement/<int:agreement_id>/terminate")
@admin_auth.admin_page
def confirm_termination(creator_id: int, agreement_id: int) -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    tenant = admin_auth.current_tenant()
    creator = _creator_or_404(tenant, creator_id)
    agreement = _chosen(tenant, creator, agreement_id)
    return render_template(
        "contracts/admin_terminate.html", shop=shop, creator=creator, agreement=agreement
    )


@bp.post("/admin/creators/<int:creator_id>/agreement/<int:agreement_id>/terminate")
@admin_auth.admin_action
def terminate(creator_id: int, agreement_id: int) -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    creator = _creator_or_404(tenant, creator_id)
    agreement = _chosen(tenant, creator, agreement_id)
    assert agreement is not None
    if agreement.status != "terminated":
        creator_service.update_agreement(tenant, agreement, {"status": "terminated"})
        get_session().commit()
    flash("Agreement terminated: no further flat fees fall due under it.", "ok")
    return redirect(
        url_for("contracts_admin.agreement_page", creator_id=creator.id, agreement=agreement.id)
    )


def _json_ready(values: dict[str, Any]) -> dict[str, Any]:
    for item in values.get("deliverables", []):
        if item.get("due_at") is not None:
            item["due_at"] = item["due_at"].isoformat()
    return values


@bp.get("/admin/deliverables/<int:deliverable_id>")
@admin_auth.admin_page
def deliverable_page(deliverable_id: int) -> ResponseReturnValue:
    return _render_deliverable(deliverable_id, {}, "")


def _render_deliverable(
    deliverable_id: int, errors: dict[str, str], message: str, status: int = 200
) -> ResponseReturnValue:
    shop = admin_auth.current_shop()
    tenant = admin_auth.current_tenant()
    row = tenant.get(Deliverable, deliverable_id)
    if row is None:
        abort(404)
    return (
        render_template(
            "contracts/admin_deliverable.html",
            **_common(shop),
            deliverable=row,
            creator=tenant.get(Creator, row.creator_id),
            agreement=tenant.get(Agreement, row.agreement_id),
            history=deliverable_service.history(tenant, row.id),
            errors=errors,
            message=message,
            tz=shop_timezone(shop),
        ),
        status,
    )


@bp.post("/admin/deliverables/<int:deliverable_id>/review")
@admin_auth.admin_action
def review(deliverable_id: int) -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    row = tenant.get(Deliverable, deliverable_id)
    if row is None:
        abort(404)
    decision = request.form.get("decision", "")
    message = request.form.get("message", "")
    try:
        deliverable_service.review(tenant, row, decision, message, actor="merchant")
    except ValidationFailed as failed:
        get_session().rollback()
        return _render_deliverable(deliverable_id, failed.fields, message, status=422)
    except DeliverableTransitionError as exc:
        get_session().rollback()
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("contracts_admin.deliverable_page", deliverable_id=deliverable_id))
    get_session().commit()
    flash(
        "Approved." if decision == "approve" else "Sent back to the creator with your message.",
        "ok",
    )
    return redirect(url_for("contracts_admin.deliverable_page", deliverable_id=deliverable_id))
