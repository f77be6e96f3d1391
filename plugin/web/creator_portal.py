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
from plugin.domain import reasons
from plugin.domain.money import format_minor_units
from plugin.domain.validation import Field, Schema, ValidationFailed
from plugin.models import Creator, Shop, utcnow
from plugin.services import overview
from plugin.services.creators import creator_for_portal_token
from plugin.services.links import public_link_url
from plugin.services.payouts import spreadsheet_safe
from plugin.web import rendering

bp = Blueprint("creator_portal", __name__)
rendering.install(bp)

PAYOUT_DETAILS = Schema("PayoutDetails", (Field("payout_email", "email", required=True),))


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
    lines = overview.statement(db, shop.id, creator.id)
    payouts = overview.creator_payouts(db, shop.id, creator.id)
    public_url = current_app.config["TASTEMAKER"].public_url
    return render_template(
        "pages/creator.html",
        token=token,
        creator=creator,
        shop=shop,
        row=row,
        link_urls={link.id: public_link_url(public_url, link.slug) for link in row.links},
        orders=overview.attribution_rows(db, shop.id, creator_id=creator.id, limit=50),
        payouts=payouts,
        payout_statuses={payout.id: payout.status for payout in payouts},
        statement=list(reversed(lines)),
        next_release=overview.held_until(lines, now),
        now=now,
    )


@bp.post("/creator/<token>/payout-details")
def payout_details(token: str) -> ResponseReturnValue:
    creator, _shop = _creator_or_404(token)
    rendering.check_csrf()
    try:
        values = PAYOUT_DETAILS.validate({"payout_email": request.form.get("payout_email", "")})
    except ValidationFailed as failed:
        flash("Payout email " + failed.fields["payout_email"] + ".", "error")
        return redirect(url_for("creator_portal.earnings", token=token))
    creator.payout_email = values["payout_email"]
    get_session().commit()
    flash("Payout email saved.", "ok")
    return redirect(url_for("creator_portal.earnings", token=token))


# Readable columns first; the machine columns (minor units, basis points, the stored reason)
# after them for spreadsheets and scripts.
STATEMENT_COLUMNS = (
    "date",
    "kind",
    "order",
    "amount",
    "currency",
    "balance",
    "status",
    "reason",
    "amount_minor",
    "rate_bps",
    "base_minor",
    "reason_code",
)


@bp.get("/creator/<token>/statement.csv")
def statement_csv(token: str) -> ResponseReturnValue:
    creator, shop = _creator_or_404(token)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(STATEMENT_COLUMNS)
    now = utcnow()
    db = get_session()
    paid = {p.id for p in overview.creator_payouts(db, shop.id, creator.id) if p.status == "paid"}
    for line in overview.statement(db, shop.id, creator.id):
        entry = line.entry
        rate_bps, base_minor = reasons.machine_parts(entry.reason)
        if entry.payout_id is not None:
            state = "paid in" if entry.payout_id in paid else "in"
            status = f"{state} payout {entry.payout_id}"
        else:
            status = "held" if entry.available_at > now else "available"
        writer.writerow(
            [
                entry.created_at.date().isoformat(),
                entry.kind,
                line.order_number or "",
                format_minor_units(entry.amount_minor, entry.currency),
                entry.currency,
                format_minor_units(line.running_minor, entry.currency),
                status,
                spreadsheet_safe(reasons.readable(entry.reason, entry.currency)),
                entry.amount_minor,
                "" if rate_bps is None else rate_bps,
                "" if base_minor is None else base_minor,
                spreadsheet_safe(entry.reason),
            ]
        )
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="statement-{creator.handle}.csv"'},
    )
