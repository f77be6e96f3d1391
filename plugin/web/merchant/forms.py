"""What the merchant pages share: HTML form values through the API's own schemas, pages of rows,
money typed as decimals, days in the shop's timezone.

Form fields arrive as strings; `form_values` turns them into the JSON types a Schema expects
(integers, booleans from checkboxes, lists from comma-separated text, dates at the shop's local
midnight) and then runs the same `Schema.validate` as the JSON API, so both say the same things.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from plugin.domain.money import currency_exponent
from plugin.domain.validation import Schema, ValidationFailed
from plugin.models import Shop
from plugin.services.ledger import shop_timezone

T = TypeVar("T")
PER_PAGE = 25
# A form sent back with its field errors is a normal answer (200), not a 422: browsers log any
# 4xx page as a console error, and the JSON API keeps its 422s for programs.
INVALID_FORM = 200


def form_values(
    schema: Schema,
    form: MultiDict[str, str],
    *,
    shop: Shop,
    partial: bool = False,
    money: Iterable[str] = (),
    skip_blank: Iterable[str] = (),
) -> dict[str, Any]:
    """Clean values for `schema` from a submitted form; ValidationFailed keeps field messages.

    Checkboxes of boolean fields are read as present/absent. Fields in `money` are decimals in
    the shop's currency turned into minor units. Blank optional fields are left out, or set to
    None when the field is nullable (clearing a date, say).
    """
    raw: dict[str, Any] = {}
    errors: dict[str, str] = {}
    money_fields, blank_skipped = set(money), set(skip_blank)
    for field in schema.fields:
        if field.kind == "boolean":
            if f"{field.name}__present" in form or field.name in form:
                raw[field.name] = form.get(field.name) in ("on", "true", "1")
            continue
        if field.name not in form:
            continue
        text = form.get(field.name, "").strip()
        if text == "":
            if field.name in blank_skipped or (field.kind == "integer" and not field.nullable):
                if field.required and not partial:
                    errors[field.name] = "is required"
                continue
            if field.nullable:
                raw[field.name] = None
            elif field.kind == "string" or field.required:
                raw[field.name] = text
            continue
        try:
            raw[field.name] = _typed(
                field.kind, field.item_kind, text, field.name, shop, money_fields
            )
        except ValidationFailed as failed:
            errors.update(failed.fields)
    try:
        clean = schema.validate(raw, partial=partial)
    except ValidationFailed as failed:
        errors = {**failed.fields, **errors}
        clean = {}
    if errors:
        raise ValidationFailed(errors)
    return clean


def _typed(
    kind: str, item_kind: str | None, text: str, name: str, shop: Shop, money: set[str]
) -> Any:
    if name in money:
        return parse_money(text, shop.currency, name)
    if kind == "integer":
        try:
            return int(text.replace(",", ""))
        except ValueError:
            raise ValidationFailed({name: "must be a whole number"}) from None
    if kind == "datetime":
        return local_midnight(text, shop, name).isoformat()
    if kind == "array" and item_kind in (None, "string"):
        return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
    return text


def parse_money(text: str, currency: str, name: str) -> int:
    """ "12.50" in USD -> 1250; refuses more decimals than the currency has."""
    exponent = currency_exponent(currency)
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise ValidationFailed({name: f"must be an amount in {currency}, like 12.50"}) from None
    if not value.is_finite() or value < 0:
        raise ValidationFailed({name: "must be zero or more"})
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValidationFailed({name: f"{currency} amounts have at most {exponent} decimals"})
    return int(minor)


def money_text(minor: int | None, currency: str) -> str:
    """Minor units as the decimal a money input shows: 1250 USD -> "12.50"."""
    exponent = currency_exponent(currency)
    return f"{Decimal(minor or 0).scaleb(-exponent):.{exponent}f}"


def local_midnight(text: str, shop: Shop, name: str) -> datetime:
    """A yyyy-mm-dd date input as the start of that day in the shop's timezone."""
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationFailed({name: "must be a date (yyyy-mm-dd)"}) from None
    return datetime.combine(day, time.min, tzinfo=shop_timezone(shop))


def local_date(value: datetime | None, shop: Shop) -> str:
    """A stored instant as the yyyy-mm-dd a date input shows, in the shop's timezone."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # stored instants are UTC
    return aware.astimezone(shop_timezone(shop)).date().isoformat()


def form_errors(failed: ValidationFailed) -> dict[str, str]:
    """Messages keyed by the form field they belong to (`deliverables[0].kind` -> deliverables)."""
    errors: dict[str, str] = {}
    for path, message in failed.fields.items():
        errors.setdefault(path.split("[", 1)[0].split(".", 1)[0], message)
    return errors


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    number: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(session: Session, statement: Select[Any], page: int, per_page: int = PER_PAGE) -> Page:
    """One page of a select (1-based; out-of-range pages show the last one)."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    pages = max(1, math.ceil((total or 0) / per_page))
    number = min(max(page, 1), pages)
    rows = list(session.execute(statement.limit(per_page).offset((number - 1) * per_page)))
    return Page(rows=rows, number=number, pages=pages, total=total or 0)


def query_args(args: Mapping[str, str], *names: str) -> dict[str, str]:
    """The list filters to keep in pagination links (empty ones left out)."""
    return {name: args[name] for name in names if args.get(name)}
