"""Import creators from CSV: upload, a preview of every line (errors with line numbers), then
apply all rows or none (plugin.services.creator_import)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.validation import ValidationFailed
from plugin.services import creator_import
from plugin.web import admin_auth
from plugin.web.merchant import bp
from plugin.web.merchant.forms import INVALID_FORM

EXAMPLE = (
    "handle,name,email,niche,audience_size,instagram\n"
    "glow.with.mia,Mia Chen,mia@example.com,skincare,42000,@glow.with.mia\n"
)


def _page(status: int = 200, **context: object) -> ResponseReturnValue:
    return (
        render_template(
            "merchant/creator_import.html",
            shop=admin_auth.current_shop(),
            columns=creator_import.COLUMNS,
            example=EXAMPLE,
            **context,
        ),
        status,
    )


@bp.get("/admin/creators/import")
@admin_auth.admin_page
def import_creators() -> ResponseReturnValue:
    return _page()


def _submitted_text() -> str:
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return creator_import.decode(upload.read(creator_import.MAX_BYTES + 1))
    return request.form.get("csv", "")


@bp.post("/admin/creators/import")
@admin_auth.admin_action
def preview_import() -> ResponseReturnValue:
    try:
        text = _submitted_text()
        if not text.strip():
            raise ValidationFailed({"file": "choose a CSV file or paste its text"})
        plan = creator_import.plan_import(admin_auth.current_tenant(), text)
    except ValidationFailed as failed:
        get_session().rollback()
        return _page(
            INVALID_FORM, file_error=failed.fields.get("file", "; ".join(failed.fields.values()))
        )
    get_session().rollback()  # a preview writes nothing
    return _page(200 if plan.ok else INVALID_FORM, plan=plan, text=text)


@bp.post("/admin/creators/import/apply")
@admin_auth.admin_action
def apply_import() -> ResponseReturnValue:
    text = request.form.get("csv", "")
    tenant = admin_auth.current_tenant()
    try:
        plan = creator_import.plan_import(tenant, text)
        result = creator_import.apply_import(tenant, plan)
    except ValidationFailed as failed:
        get_session().rollback()
        flash(
            "Nothing was imported: " + "; ".join(f"{k} {v}" for k, v in failed.fields.items()),
            "error",
        )
        return redirect(url_for("merchant.import_creators"))
    get_session().commit()
    flash(
        f"Imported: {result.created} added, {result.updated} updated, "
        f"{result.unchanged} already up to date.",
        "ok",
    )
    return redirect(url_for("merchant.creators"))
