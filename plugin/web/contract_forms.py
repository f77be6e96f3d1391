"""The agreement form of the merchant pages: an agreement to form fields and back.

The page speaks the merchant's units (12.5 %, 150.00, dates in the shop's timezone); the values
it produces are the API's (basis points, minor units, aware datetimes) and go through the API's
own schema, so a page and an integrator get the same rules and the same messages. Field errors
come back keyed by form field name for inline display.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from plugin.domain.money import currency_exponent
from plugin.domain.validation import ValidationFailed
from plugin.models import Agreement

CHANNELS = ("instagram", "tiktok", "youtube", "pinterest", "website", "email", "paid ads")
EXTRA_ROWS = 2  # blank rows offered for new deliverables and bonus tiers
MAX_ROWS = 50
SCHEMA_TO_FORM = {
    "commission_rate_bps": "commission_rate",
    "flat_fee_minor": "flat_fee",
    "starts_at": "starts_on",
    "ends_at": "ends_on",
}
ROW_PATH = re.compile(r"^(deliverables|bonus_tiers)\[(\d+)\]\.(\w+)$")


@dataclass
class AgreementForm:
    """Raw field values as typed (or as stored), and the errors to show beside them."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> Any:
        return self.values.get(name, default)

    def rows(self, prefix: str) -> range:
        count = int(self.values.get(f"{prefix}_rows", 0) or 0)
        return range(count)


def _decimal_text(minor: int, exponent: int) -> str:
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


def _percent_text(bps: int) -> str:
    text = f"{Decimal(bps) / 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _date_text(value: datetime | str | None, tz: ZoneInfo) -> str:
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.astimezone(tz).date().isoformat()


def from_agreement(
    agreement: Agreement | None,
    terms: Mapping[str, Any] | None,
    currency: str,
    tz: ZoneInfo,
) -> AgreementForm:
    """The form for an agreement's newest terms (`terms`, a version snapshot), or a new one."""
    if agreement is None or terms is None:
        values: dict[str, Any] = {
            "commission_rate": "10",
            "flat_fee": _decimal_text(0, currency_exponent(currency)),
            "payment_schedule": "on_signing",
            "status": "active",
            "usage_rights_days": "0",
            "usage_rights_territory": "worldwide",
            "channels": [],
            "live_on_acceptance": "",
            "deliverable_rows": EXTRA_ROWS,
            "tier_rows": EXTRA_ROWS,
        }
        return AgreementForm(values)
    values = {
        "commission_rate": _percent_text(int(terms["commission_rate_bps"])),
        "flat_fee": _decimal_text(int(terms["flat_fee_minor"]), currency_exponent(currency)),
        "payment_schedule": terms["payment_schedule"],
        "status": agreement.status,
        "starts_on": _date_text(terms["starts_at"], tz),
        "ends_on": _date_text(terms["ends_at"], tz),
        "usage_rights_days": str(terms["usage_rights_days"]),
        "usage_rights_territory": terms["usage_rights_territory"],
        "channels": list(terms["usage_rights_channels"] or []),
        "exclusivity": terms["exclusivity"],
        "termination_terms": terms["termination_terms"],
        "live_on_acceptance": {None: "", True: "yes", False: "no"}[agreement.live_on_acceptance],
    }
    deliverables = list(terms["deliverables"] or [])
    for index, item in enumerate(deliverables):
        values[f"deliverable-{index}-kind"] = item.get("kind", "")
        values[f"deliverable-{index}-quantity"] = str(item.get("quantity") or 1)
        values[f"deliverable-{index}-due_on"] = _date_text(item.get("due_at"), tz)
        values[f"deliverable-{index}-notes"] = item.get("notes", "")
    values["deliverable_rows"] = len(deliverables) + EXTRA_ROWS
    tiers = list(terms["bonus_tiers"] or [])
    for index, tier in enumerate(tiers):
        values[f"tier-{index}-min_orders"] = str(tier["min_orders"])
        values[f"tier-{index}-extra_rate"] = _percent_text(int(tier["extra_rate_bps"]))
    values["tier_rows"] = len(tiers) + EXTRA_ROWS
    return AgreementForm(values)


def from_request(form: Mapping[str, Any], channels: list[str]) -> AgreementForm:
    values = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    values["channels"] = [c for c in channels if c in CHANNELS]
    for prefix, probe in (("deliverable", "kind"), ("tier", "min_orders")):
        present = [
            int(m.group(1))
            for key in values
            if (m := re.fullmatch(rf"{prefix}-(\d+)-{probe}", key)) and int(m.group(1)) < MAX_ROWS
        ]
        values[f"{prefix}_rows"] = max(present) + 1 if present else 0
    return AgreementForm(values)


def to_values(form: AgreementForm, currency: str, tz: ZoneInfo) -> dict[str, Any]:
    """API values from the form; raises ValidationFailed keyed by form field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    def number(name: str, text: str, scale: int, what: str) -> int | None:
        try:
            amount = Decimal(text.strip().replace(",", "") or "0")
        except InvalidOperation:
            errors[name] = f"must be {what}"
            return None
        scaled = amount.scaleb(scale)
        if scaled != scaled.to_integral_value():
            errors[name] = f"must be {what}"
            return None
        return int(scaled)

    def integer(name: str, text: str) -> int | None:
        try:
            return int(text.strip() or "0")
        except ValueError:
            errors[name] = "must be a whole number"
            return None

    def day(name: str, text: str, at: time) -> datetime | None:
        if not text.strip():
            return None
        try:
            local = datetime.combine(date.fromisoformat(text.strip()), at, tz)
        except ValueError:
            errors[name] = "must be a date (YYYY-MM-DD)"
            return None
        return local.astimezone(UTC)

    values["commission_rate_bps"] = number(
        "commission_rate", form.get("commission_rate"), 2, "a percentage like 12.5"
    )
    exponent = currency_exponent(currency)
    values["flat_fee_minor"] = number(
        "flat_fee", form.get("flat_fee"), exponent, f"an amount with at most {exponent} decimals"
    )
    values["payment_schedule"] = form.get("payment_schedule")
    values["status"] = form.get("status")
    starts = day("starts_on", form.get("starts_on"), time(0, 0))
    ends = day("ends_on", form.get("ends_on"), time(0, 0))
    values["starts_at"] = starts.isoformat() if starts else None
    values["ends_at"] = ends.isoformat() if ends else None
    values["usage_rights_days"] = integer("usage_rights_days", form.get("usage_rights_days"))
    values["usage_rights_territory"] = form.get("usage_rights_territory")
    values["usage_rights_channels"] = list(form.get("channels", []))
    values["exclusivity"] = form.get("exclusivity")
    values["termination_terms"] = form.get("termination_terms")
    values["live_on_acceptance"] = {"yes": True, "no": False}.get(form.get("live_on_acceptance"))
    deliverables = []
    for index in form.rows("deliverable"):
        kind = str(form.get(f"deliverable-{index}-kind")).strip()
        if not kind:
            continue  # a blank (or cleared) row: no deliverable
        due = day(
            f"deliverable-{index}-due_on", form.get(f"deliverable-{index}-due_on"), time(23, 59)
        )
        deliverables.append(
            {
                "kind": kind,
                "quantity": integer(
                    f"deliverable-{index}-quantity", form.get(f"deliverable-{index}-quantity", "1")
                ),
                "due_at": due.isoformat() if due else None,
                "notes": str(form.get(f"deliverable-{index}-notes")),
                "_row": index,
            }
        )
    tiers = []
    for index in form.rows("tier"):
        minimum = str(form.get(f"tier-{index}-min_orders")).strip()
        extra = str(form.get(f"tier-{index}-extra_rate")).strip()
        if not minimum and not extra:
            continue
        tiers.append(
            {
                "min_orders": integer(f"tier-{index}-min_orders", minimum),
                "extra_rate_bps": number(
                    f"tier-{index}-extra_rate", extra, 2, "a percentage like 2.5"
                ),
                "_row": index,
            }
        )
    values["deliverables"] = deliverables
    values["bonus_tiers"] = tiers
    if errors:
        raise ValidationFailed(errors)
    return values


def strip_rows(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """Drop the form-row bookkeeping, keeping where each list item came from."""
    rows = {}
    for name in ("deliverables", "bonus_tiers"):
        rows[name] = [item.pop("_row") for item in values[name]]
    return values, rows


def form_errors(failed: ValidationFailed, rows: Mapping[str, list[int]]) -> dict[str, str]:
    """Schema error paths (`deliverables[1].quantity`) as form field names."""
    errors: dict[str, str] = {}
    for path, message in failed.fields.items():
        match = ROW_PATH.match(path)
        if match:
            name, index, leaf = match.group(1), int(match.group(2)), match.group(3)
            row = rows[name][index] if index < len(rows[name]) else index
            prefix = "deliverable" if name == "deliverables" else "tier"
            leaf = {"due_at": "due_on", "extra_rate_bps": "extra_rate"}.get(leaf, leaf)
            errors[f"{prefix}-{row}-{leaf}"] = message
        else:
            errors[SCHEMA_TO_FORM.get(path, path)] = message
    return errors
