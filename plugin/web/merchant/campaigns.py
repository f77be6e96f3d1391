"""Campaigns: the six formats, each with its primary KPI and a target; members and links; the KPI
against its target over time; archive (confirmed first)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from plugin.db import get_session
from plugin.domain.validation import ValidationFailed
from plugin.models import Campaign, Creator, ReferralLink, utcnow
from plugin.models.creators import CAMPAIGN_FORMATS
from plugin.services import campaign_progress as progress
from plugin.services import creators as creator_service
from plugin.services.links import public_link_url
from plugin.services.metrics_series import daily_series
from plugin.web import admin_auth, rendering
from plugin.web.admin_api.campaigns import CAMPAIGN_INPUT, KPIS
from plugin.web.charts import Series, line_chart
from plugin.web.merchant import bp
from plugin.web.merchant.forms import (
    INVALID_FORM,
    form_errors,
    form_values,
    local_date,
    money_text,
    paginate,
    query_args,
)
from plugin.web.merchant.performance import program_charts, today_in_shop


@bp.get("/admin/campaigns")
@admin_auth.admin_page
def campaigns() -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    search = request.args.get("q", "").strip()[:100]
    fmt = request.args.get("format", "")
    show = request.args.get("show", "current")
    statement = tenant.select(Campaign).order_by(Campaign.id.desc())
    if search:
        statement = statement.where(func.lower(Campaign.name).like(f"%{search.lower()}%"))
    if fmt in CAMPAIGN_FORMATS:
        statement = statement.where(Campaign.format == fmt)
    if show == "archived":
        statement = statement.where(Campaign.archived_at.is_not(None))
    else:
        statement = statement.where(Campaign.archived_at.is_(None))
    return render_template(
        "merchant/campaigns.html",
        shop=admin_auth.current_shop(),
        page=paginate(get_session(), statement, request.args.get("page", 1, type=int)),
        search=search,
        fmt=fmt,
        show=show,
        formats=progress.FORMAT_LABELS,
        kpis=progress.KPI_LABELS,
        args=query_args(request.args, "q", "format", "show"),
    )


def _target_value(campaign: Campaign) -> str:
    if campaign.primary_kpi == "revenue":
        return money_text(campaign.kpi_target, admin_auth.current_shop().currency)
    return str(campaign.kpi_target)


def _values(form: Any, partial: bool) -> dict[str, Any]:
    shop = admin_auth.current_shop()
    kpi = form.get("primary_kpi") or progress.FORMAT_KPIS.get(form.get("format", ""), "revenue")
    money = ("budget_minor", "kpi_target") if kpi == "revenue" else ("budget_minor",)
    values = form_values(CAMPAIGN_INPUT, form, shop=shop, partial=partial, money=money)
    values.setdefault("primary_kpi", kpi)
    return values


def _form(campaign: Campaign | None, errors: dict[str, str], form: Any, status: int = 200) -> Any:
    return (
        render_template(
            "merchant/campaign_form.html",
            shop=admin_auth.current_shop(),
            campaign=campaign,
            errors=errors,
            form=form,
            format_options=list(progress.FORMAT_LABELS.items()),
            kpi_options=[(k, progress.KPI_LABELS[k]) for k in KPIS],
            format_kpis=progress.FORMAT_KPIS,
        ),
        status,
    )


@bp.get("/admin/campaigns/new")
@admin_auth.admin_page
def new_campaign() -> ResponseReturnValue:
    fmt = request.args.get("format", "shoppable_story")
    return _form(None, {}, {"format": fmt, "primary_kpi": progress.FORMAT_KPIS.get(fmt)})


@bp.post("/admin/campaigns/new")
@admin_auth.admin_action
def create_campaign() -> ResponseReturnValue:
    try:
        campaign = creator_service.create_campaign(
            admin_auth.current_tenant(), _values(request.form, partial=False)
        )
    except ValidationFailed as failed:
        get_session().rollback()
        return _form(None, form_errors(failed), request.form, INVALID_FORM)
    get_session().commit()
    flash(f"Campaign “{campaign.name}” created. Next: add links for its creators.", "ok")
    return redirect(url_for("merchant.campaign", campaign_id=campaign.id))


@bp.get("/admin/campaigns/<int:campaign_id>/edit")
@admin_auth.admin_page
def edit_campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = admin_auth.owned_or_404(Campaign, campaign_id)
    shop = admin_auth.current_shop()
    form = {
        "name": campaign.name,
        "format": campaign.format,
        "primary_kpi": campaign.primary_kpi,
        "kpi_target": _target_value(campaign),
        "budget_minor": money_text(campaign.budget_minor, shop.currency),
        "starts_at": local_date(campaign.starts_at, shop),
        "ends_at": local_date(campaign.ends_at, shop),
        "brief": campaign.brief,
    }
    return _form(campaign, {}, form)


@bp.post("/admin/campaigns/<int:campaign_id>/edit")
@admin_auth.admin_action
def update_campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = admin_auth.owned_or_404(Campaign, campaign_id)
    try:
        creator_service.update_campaign(
            admin_auth.current_tenant(), campaign, _values(request.form, partial=True)
        )
    except ValidationFailed as failed:
        get_session().rollback()
        return _form(
            admin_auth.owned_or_404(Campaign, campaign_id),
            form_errors(failed),
            request.form,
            INVALID_FORM,
        )
    get_session().commit()
    flash("Campaign saved.", "ok")
    return redirect(url_for("merchant.campaign", campaign_id=campaign.id))


@bp.get("/admin/campaigns/<int:campaign_id>")
@admin_auth.admin_page
def campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = admin_auth.owned_or_404(Campaign, campaign_id)
    shop = admin_auth.current_shop()
    db = get_session()
    start, end = progress.campaign_days(campaign, shop, today_in_shop(shop))
    # Charted up to today: days still to come have no numbers yet (the pace line says where the
    # campaign should be by now; the target card says where it should end).
    shown_end = max(min(end, today_in_shop(shop)), start)
    points = daily_series(
        db, shop.id, start=start, end=shown_end + timedelta(days=1), campaign_id=campaign.id
    )
    series = progress.kpi_series(db, shop, campaign, start, shown_end, points, last_day=end)
    label = progress.KPI_LABELS.get(campaign.primary_kpi, campaign.primary_kpi)

    def fmt(value: int) -> str:
        if campaign.primary_kpi == "revenue":
            return rendering.money(value, shop.currency)
        return f"{value:,}"

    kpi_chart = line_chart(
        f"{label} against the target",
        [point.day.strftime("%d %b") for point in series],
        [
            Series(f"{label} so far", [point.actual for point in series]),
            Series(
                f"Pace to the target of {fmt(campaign.kpi_target)}",
                [point.target for point in series],
                dashed=True,
            ),
        ],
        fmt=fmt,
        axis_fmt=(lambda v: fmt(v).split(".")[0]) if campaign.primary_kpi == "revenue" else None,
    )
    links = db.execute(
        select(ReferralLink, Creator.handle)
        .join(Creator, Creator.id == ReferralLink.creator_id)
        .where(ReferralLink.shop_id == shop.id, ReferralLink.campaign_id == campaign.id)
        .order_by(ReferralLink.id)
    ).all()
    public_url = current_app.config["TASTEMAKER"].public_url
    latest = series[-1] if series else None
    return render_template(
        "merchant/campaign.html",
        shop=shop,
        campaign=campaign,
        label=label,
        formats=progress.FORMAT_LABELS,
        kpi_chart=kpi_chart,
        actual=fmt(latest.actual) if latest else fmt(0),
        target=fmt(campaign.kpi_target),
        share=(latest.actual * 100 // campaign.kpi_target)
        if latest and campaign.kpi_target
        else None,
        start=start,
        end=end,
        members=progress.member_creators(db, shop.id, campaign.id),
        links=[(link, handle, public_link_url(public_url, link.slug)) for link, handle in links],
        charts=program_charts(db, shop, start, shown_end, campaign_id=campaign.id, points=points),
    )


@bp.get("/admin/campaigns/<int:campaign_id>/archive")
@admin_auth.admin_page
def confirm_archive_campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = admin_auth.owned_or_404(Campaign, campaign_id)
    restoring = campaign.archived_at is not None
    return render_template(
        "merchant/confirm.html",
        shop=admin_auth.current_shop(),
        title=("Restore" if restoring else "Archive") + f" “{campaign.name}”?",
        lines=[
            "Archived campaigns leave the campaigns list; their links keep working and their "
            "orders stay credited."
            if not restoring
            else "The campaign returns to the list."
        ],
        action=url_for("merchant.archive_campaign", campaign_id=campaign.id),
        button="Restore campaign" if restoring else "Archive campaign",
        danger=not restoring,
        cancel=url_for("merchant.campaign", campaign_id=campaign.id),
    )


@bp.post("/admin/campaigns/<int:campaign_id>/archive")
@admin_auth.admin_action
def archive_campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = admin_auth.owned_or_404(Campaign, campaign_id)
    campaign.archived_at = None if campaign.archived_at else utcnow()
    get_session().commit()
    flash(f"“{campaign.name}” {'archived' if campaign.archived_at else 'restored'}.", "ok")
    return redirect(url_for("merchant.campaigns"))
