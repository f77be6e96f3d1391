"""Merchant pages for lift tests: plan one (design, assumptions, sample-size guidance), launch it
after a confirmation step, read its result with 95 % intervals, end it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.lift_design import DESIGNS, EXPLANATIONS
from plugin.domain.validation import ValidationFailed
from plugin.models import Campaign, Creator, LiftTest
from plugin.services import lift as service
from plugin.services.creators import InvalidTransition
from plugin.services.lift_results import guidance, lift_result
from plugin.web import admin_auth, rendering
from plugin.web.admin_api.lift_tests_io import LIFT_TEST_INPUT
from plugin.web.lift_chart import chart_svg, weekly_rows

bp = Blueprint("lift_pages", __name__)
rendering.install(bp)

NUMBER_FIELDS = ("waves", "wave_days", "baseline_days", "duration_days", "campaign_id")


@bp.get("/admin/lift-tests")
@admin_auth.admin_page
def index() -> ResponseReturnValue:
    tenant = admin_auth.current_tenant()
    tests = sorted(tenant.all(LiftTest), key=lambda test: test.id, reverse=True)
    campaigns = {campaign.id: campaign for campaign in tenant.all(Campaign)}
    return render_template(
        "pages/lift_tests.html",
        shop=admin_auth.current_shop(),
        tests=tests,
        campaigns=campaigns,
        designs=DESIGNS,
        explanations=EXPLANATIONS,
    )


def _form_values() -> dict[str, Any]:
    """The form's fields as the API's input: numbers parsed, the holdout share from a percent."""
    values: dict[str, Any] = {"design": request.form.get("design", "")}
    errors: dict[str, str] = {}
    for name in NUMBER_FIELDS:
        raw = request.form.get(name, "").strip()
        if raw:
            try:
                values[name] = int(raw)
            except ValueError:
                errors[name] = "must be a whole number"
    percent = request.form.get("holdout_percent", "").strip()
    if percent:
        try:
            values["holdout_bps"] = round(float(percent) * 100)
        except ValueError:
            errors["holdout_percent"] = "must be a number"
    products = request.form.get("product_ids", "").replace(",", " ").split()
    try:
        values["product_ids"] = [int(product) for product in products]
    except ValueError:
        errors["product_ids"] = "must be product ids (numbers) separated by spaces or commas"
    name = request.form.get("name", "").strip()
    if name:
        values["name"] = name
    if errors:
        raise ValidationFailed(errors)
    return values


@bp.post("/admin/lift-tests")
@admin_auth.admin_action
def create() -> ResponseReturnValue:
    db = get_session()
    try:
        values = LIFT_TEST_INPUT.validate(_form_values())
        values["product_ids"] = [str(product) for product in values.get("product_ids", [])]
        test = service.create_test(admin_auth.current_tenant(), values)
    except ValidationFailed as failed:
        db.rollback()
        for field, message in failed.fields.items():
            flash(f"{field.replace('_', ' ').capitalize()} {message}.", "error")
        return redirect(url_for("lift_pages.index"))
    db.commit()
    flash("Lift test planned. Check the guidance below, then launch it.", "ok")
    return redirect(url_for("lift_pages.detail", test_id=test.id))


def _owned(test_id: int) -> LiftTest:
    test = admin_auth.current_tenant().get(LiftTest, test_id)
    if test is None:
        abort(404)
    return test


@bp.get("/admin/lift-tests/<int:test_id>")
@admin_auth.admin_page
def detail(test_id: int) -> ResponseReturnValue:
    test = _owned(test_id)
    db = get_session()
    tenant = admin_auth.current_tenant()
    result = lift_result(db, test) if test.launched_at is not None else None
    chart = result.chart if result is not None else None
    names = {creator.id: creator for creator in tenant.all(Creator)}
    return render_template(
        "pages/lift_test.html",
        shop=admin_auth.current_shop(),
        test=test,
        campaign=tenant.get(Campaign, test.campaign_id),
        explanation=EXPLANATIONS[test.design],
        advice=guidance(db, test),
        assignments=service.assignments(tenant, test.id),
        participants=service.participants(tenant, test.campaign_id),
        creators=names,
        result=result,
        chart=chart_svg(chart, f"{test.name}: actual and counterfactual") if chart else None,
        weeks=weekly_rows(chart, cumulative=test.design == "holdout") if chart else [],
    )


@bp.get("/admin/lift-tests/<int:test_id>/<any(launch, end):action>")
@admin_auth.admin_page
def confirm(test_id: int, action: str) -> ResponseReturnValue:
    test = _owned(test_id)
    tenant = admin_auth.current_tenant()
    return render_template(
        "pages/lift_confirm.html",
        shop=admin_auth.current_shop(),
        test=test,
        action=action,
        explanation=EXPLANATIONS[test.design],
        participants=service.participants(tenant, test.campaign_id),
    )


@bp.post("/admin/lift-tests/<int:test_id>/<any(launch, end):action>")
@admin_auth.admin_action
def act(test_id: int, action: str) -> ResponseReturnValue:
    test = _owned(test_id)
    db = get_session()
    tenant = admin_auth.current_tenant()
    try:
        if action == "launch":
            service.launch(tenant, test)
            message = "Launched. The randomization is recorded and can no longer change."
        else:
            service.end(tenant, test)
            message = "Ended. Creators still waiting for their wave are live now."
    except InvalidTransition as exc:
        db.rollback()
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("lift_pages.detail", test_id=test_id))
    db.commit()
    flash(message, "ok")
    return redirect(url_for("lift_pages.detail", test_id=test_id))
