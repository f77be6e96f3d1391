"""A creator's private earnings page: /creator/<token>.

The token is the only credential (like a magic link): its SHA-256 is stored on the creator, the
clear token never is. The page shows the creator's codes and links, the orders credited to them
and why, held and available earnings, payouts and a statement. Its one form (payout email) is
CSRF-protected; responses are not cached, not indexed and send no referrer, so the token does not
leak to other sites.
"""

from __future__ import annotations

import csv
import io

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from plugin.db import get_session
from plugin.domain.money import format_minor_units
from plugin.domain.validation import Field, Schema, ValidationFailed
from plugin.models import Creator, Shop, utcnow
from plugin.services import overview, statements
from plugin.services.creators import creator_for_portal_token
from plugin.services.links import public_link_url
from plugin.services.payouts import spreadsheet_safe
from plugin.web import admin_auth, csrf, rendering

bp = Blueprint("creator_portal", __name__)
rendering.install(bp)

CSV_COLUMNS = (
    "period",
    "date",
    "type",
    "order",
    "description",
    "why",
    "rate",
    "base",
    "amount",
    "currency",
    "status",
    "releases_on",
    "payout_reference",
    "balance",
)
PAYOUT_METHODS = ("bank_transfer", "paypal", "store_credit")
PAYOUT_DETAILS = Schema(
    "PayoutDetails",
    (
        Field("payout_email", "email", required=True),
        Field("payout_method", "string", choices=PAYOUT_METHODS),
    ),
)


def _creator_or_404(token: str) -> tuple[Creator, Shop]:
    creator = creator_for_portal_token(get_session(), token)
    if creator is None:
        abort(404)
    shop = get_session().get(Shop, creator.shop_id)
    assert shop is not None  # creator_for_portal_token checked it
    return creator, shop


@bp.errorhandler(404)
def not_found(_error: Exception) -> ResponseReturnValue:
    return render_template("pages/not_found.html"), 404


@bp.get("/creator/<token>")
def earnings(token: str) -> ResponseReturnValue:
    creator, shop = _creator_or_404(token)
    db = get_session()
    now = utcnow()
    (row,) = overview.creator_rows(db, shop.id, creator.id)
    statement = statements.build(db, shop, creator, now)
    public_url = current_app.config["TASTEMAKER"].public_url
    return render_template(
        "pages/creator.html",
        token=token,
        creator=creator,
        shop=shop,
        row=row,
        link_urls={link.id: public_link_url(public_url, link.slug) for link in row.links},
        orders=overview.attribution_rows(db, shop.id, creator_id=creator.id, limit=50),
        payouts=overview.creator_payouts(db, shop.id, creator.id),
        statement=statement,
        period=_chosen_period(statement),
        now=now,
    )


def _chosen_period(statement: statements.Statement) -> statements.Period | None:
    wanted = request.args.get("period", "")
    return statement.period(wanted) or (statement.periods[0] if statement.periods else None)


@bp.post("/creator/<token>/payout-details")
def payout_details(token: str) -> ResponseReturnValue:
    creator, _shop = _creator_or_404(token)
    csrf.check_csrf()
    try:
        submitted = {"payout_email": request.form.get("payout_email", "")}
        if request.form.get("payout_method"):
            submitted["payout_method"] = request.form["payout_method"]
        values = PAYOUT_DETAILS.validate(submitted)
    except ValidationFailed as failed:
        name, message = next(iter(failed.fields.items()))
        flash(name.replace("_", " ").capitalize() + " " + message + ".", "error")
        return redirect(url_for("creator_portal.earnings", token=token))
    creator.payout_email = values["payout_email"]
    # Store credit is paid into the shop account of the creator's own email, in the store.
    creator.payout_method = values.get("payout_method", creator.payout_method)
    get_session().commit()
    flash("Payout email saved.", "ok")
    return redirect(url_for("creator_portal.earnings", token=token))


@bp.get("/creator/<token>/statement")
def printable(token: str) -> ResponseReturnValue:
    creator, shop = _creator_or_404(token)
    return _printable(shop, creator)


@bp.get("/admin/creators/<int:creator_id>/statement")
@admin_auth.admin_page
def merchant_statement(creator_id: int) -> ResponseReturnValue:
    """The merchant's view of a creator's statement: the very same read model and template."""
    creator = admin_auth.current_tenant().get(Creator, creator_id)
    if creator is None:
        abort(404)
    return _printable(admin_auth.current_shop(), creator, merchant=True)


def _printable(shop: Shop, creator: Creator, *, merchant: bool = False) -> ResponseReturnValue:
    statement = statements.build(get_session(), shop, creator, utcnow())
    return render_template(
        "pages/creator_statement.html",
        shop=shop,
        creator=creator,
        statement=statement,
        period=_chosen_period(statement),
        merchant=merchant,
        issued_at=utcnow(),
    )


@bp.get("/creator/<token>/statement.csv")
def statement_csv(token: str) -> ResponseReturnValue:
    creator, shop = _creator_or_404(token)
    statement = statements.build(get_session(), shop, creator, utcnow())
    chosen = statement.period(request.args.get("period", ""))
    periods = [chosen] if chosen else list(reversed(statement.periods))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for period in periods:
        for line in period.lines:
            writer.writerow(
                [
                    period.key,
                    line.at.date().isoformat(),
                    line.kind,
                    spreadsheet_safe(line.order_number or ""),
                    spreadsheet_safe(line.what),
                    spreadsheet_safe(line.why),
                    "" if line.rate_bps is None else f"{line.rate_bps / 100:g}%",
                    ""
                    if line.base_minor is None
                    else format_minor_units(line.base_minor, line.currency),
                    format_minor_units(line.amount_minor, line.currency),
                    line.currency,
                    line.status,
                    line.release_at.date().isoformat() if line.release_at else "",
                    line.payout_reference or "",
                    format_minor_units(line.balance_minor, statement.currency),
                ]
            )
    suffix = f"-{chosen.key}" if chosen else ""
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="statement-{creator.handle}{suffix}.csv"'
        },
    )
