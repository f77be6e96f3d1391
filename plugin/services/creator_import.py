"""Add or update many creators from a CSV file: preview first, all or nothing, idempotent.

`plan_import` reads the file and says, line by line, what applying it would do (create, update,
unchanged) or why a line is refused; `apply_import` applies a plan that has no errors inside one
savepoint, so a file is never half-imported. Creators are matched by handle (case-insensitive):
importing the same file twice changes nothing the second time. Each row is checked with the same
schema as `POST /api/v1/creators`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func

from plugin.domain.creator_input import CREATOR_INPUT
from plugin.domain.validation import ValidationFailed
from plugin.models import Creator
from plugin.services import creators as creator_service
from plugin.tenancy import Tenant

MAX_ROWS = 5_000
MAX_BYTES = 2_000_000
SOCIAL_COLUMNS = ("instagram", "tiktok", "youtube")
LIST_COLUMNS = ("customer_ids",)
COLUMNS = (
    "handle",
    "name",
    "email",
    "niche",
    "audience_size",
    "payout_email",
    "payout_method",
    *LIST_COLUMNS,
    *SOCIAL_COLUMNS,
)


@dataclass(frozen=True)
class RowPlan:
    line: int
    handle: str
    action: str  # create | update | unchanged | error
    values: Mapping[str, Any] = field(default_factory=dict)
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass(frozen=True)
class ImportPlan:
    rows: tuple[RowPlan, ...]
    errors: tuple[RowError, ...]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def as_fields(self) -> dict[str, str]:
        """The errors as ValidationFailed fields: `line 3: email` -> message."""
        return {f"line {e.line}: {e.field}": e.message for e in self.errors}


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"file": f"is larger than {MAX_BYTES // 1_000_000} MB"})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            {"file": "must be UTF-8 text (save the sheet as CSV UTF-8)"}
        ) from None


def plan_import(tenant: Tenant, text: str) -> ImportPlan:
    """What importing `text` would do; file-level problems raise ValidationFailed({"file": ...})."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ValidationFailed({"file": "is empty"}) from None
    except csv.Error as exc:
        raise ValidationFailed({"file": f"is not a readable CSV file ({exc})"}) from None
    unknown = [name for name in header if name not in COLUMNS]
    if "handle" not in header or unknown:
        named = f"unknown columns: {', '.join(unknown)}; " if unknown else ""
        raise ValidationFailed(
            {"file": f"{named}the first line must name the columns, e.g. " + ",".join(COLUMNS)}
        )
    rows: list[RowPlan] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    line = reader.line_num
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationFailed({"file": f"has more than {MAX_ROWS} creators"})
            if len(cells) != len(header):
                errors.append(
                    RowError(start, "row", f"has {len(cells)} cells, expected {len(header)}")
                )
                continue
            plan, row_errors = _plan_row(tenant, start, dict(zip(header, cells, strict=True)), seen)
            rows.append(plan)
            errors.extend(row_errors)
    except csv.Error as exc:
        raise ValidationFailed({"file": f"line {line + 1} is not valid CSV ({exc})"}) from None
    if not rows and not errors:
        raise ValidationFailed({"file": "has a header but no creators"})
    return ImportPlan(tuple(rows), tuple(errors))


def _plan_row(
    tenant: Tenant, line: int, cells: Mapping[str, str], seen: dict[str, int]
) -> tuple[RowPlan, list[RowError]]:
    raw: dict[str, Any] = {}
    errors: list[RowError] = []
    social = {name: cells[name].strip() for name in SOCIAL_COLUMNS if cells.get(name, "").strip()}
    for name, cell in cells.items():
        text = cell.strip()
        if name in SOCIAL_COLUMNS or (text == "" and name != "handle"):
            continue
        if name == "audience_size":
            try:
                raw[name] = int(text.replace(",", ""))
            except ValueError:
                errors.append(RowError(line, name, "must be a whole number"))
        elif name in LIST_COLUMNS:
            raw[name] = [part.strip() for part in text.split(";") if part.strip()]
        else:
            raw[name] = text
    if social:
        raw["social_handles"] = social
    handle = str(raw.get("handle", ""))
    try:
        values = CREATOR_INPUT.validate(raw)
    except ValidationFailed as failed:
        errors.extend(RowError(line, name, message) for name, message in failed.fields.items())
        values = {}
    key = handle.lower()
    if key and key in seen:
        errors.append(RowError(line, "handle", f"repeats line {seen[key]}"))
    elif key:
        seen[key] = line
    if errors:
        return RowPlan(line, handle, "error"), errors
    existing = tenant.first(Creator, func.lower(Creator.handle) == key)
    if existing is None:
        return RowPlan(line, handle, "create", values), []
    changes = tuple(
        name
        for name, value in values.items()
        if name != "handle" and _current(existing, name) != value
    )
    return RowPlan(line, existing.handle, "update" if changes else "unchanged", values, changes), []


def _current(creator: Creator, name: str) -> Any:
    value = getattr(creator, name)
    if name == "social_handles":
        return dict(value or {})
    if name == "customer_ids":
        return list(value or [])
    return value


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def apply_import(tenant: Tenant, plan: ImportPlan) -> ImportResult:
    """Apply a plan without errors, all rows or none (the caller commits)."""
    if plan.errors:
        raise ValidationFailed(plan.as_fields())
    savepoint = tenant.session.begin_nested()
    try:
        for row in plan.rows:
            if row.action == "create":
                creator_service.create_creator(tenant, row.values)
            elif row.action == "update":
                existing = tenant.first(Creator, func.lower(Creator.handle) == row.handle.lower())
                if existing is None:  # renamed or removed since the preview
                    raise ValidationFailed(
                        {f"line {row.line}: handle": "changed since the preview; preview again"}
                    )
                changed = {name: row.values[name] for name in row.changes}
                creator_service.update_creator(tenant, existing, changed)
        tenant.session.flush()
    except ValidationFailed as failed:
        savepoint.rollback()
        raise ValidationFailed(
            {
                (key if key.startswith("line ") else f"line {row.line}: {key}"): message
                for key, message in failed.fields.items()
            }
        ) from None
    savepoint.commit()
    return ImportResult(plan.count("create"), plan.count("update"), plan.count("unchanged"))
