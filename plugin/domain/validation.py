"""Declarative request validation with field-level messages.

A Schema is declared once and used twice: `validate()` turns a decoded JSON body into clean
values or raises ValidationFailed with one message per field path ("bonus_tiers[1].min_orders"),
and `json_schema()` describes the same rules for the OpenAPI document, so the two cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")

# Every integer column is a signed 64-bit integer: a larger number is a field error, not a crash.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

KINDS = ("string", "integer", "boolean", "datetime", "email", "currency", "object", "array")


class ValidationFailed(ValueError):
    """Input that breaks the rules; `fields` maps a field path to a human message."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in fields.items()))
        self.fields = dict(fields)


class InvalidTransition(Exception):
    """A state change the row's current state does not allow (answered as 409)."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    required: bool = False
    nullable: bool = False
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    pattern_hint: str = ""
    # For arrays: the schema of each object item, or the kind of each scalar item.
    items: Schema | None = None
    item_kind: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")


@dataclass(frozen=True)
class Schema:
    name: str
    fields: tuple[Field, ...]
    # Free-form objects (e.g. social handles) accept any keys with scalar values.
    free_form: bool = False

    def field_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    def validate(self, data: object, *, partial: bool = False, path: str = "") -> dict[str, Any]:
        """Clean values for the fields present; `partial` (updates) makes nothing required."""
        if not isinstance(data, Mapping):
            raise ValidationFailed({path or "body": "must be a JSON object"})
        errors: dict[str, str] = {}
        clean: dict[str, Any] = {}
        known = {field.name: field for field in self.fields}
        if not self.free_form:
            for key in data:
                if key not in known:
                    errors[_join(path, str(key))] = "is not a known field"
        else:
            for key, value in data.items():
                if not isinstance(value, str | int | bool) or len(str(value)) > 500:
                    errors[_join(path, str(key))] = "must be a short string, number or boolean"
                elif not (storable_text(str(key)) and storable_text(str(value))):
                    errors[_join(path, str(key))] = UNSTORABLE
                elif isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
                    errors[_join(path, str(key))] = "is out of range"
            clean = dict(data)
        for field in self.fields:
            where = _join(path, field.name)
            if field.name not in data:
                if field.required and not partial:
                    errors[where] = "is required"
                continue
            try:
                clean[field.name] = _coerce(field, data[field.name], where)
            except ValidationFailed as failed:
                errors.update(failed.fields)
        if errors:
            raise ValidationFailed(errors)
        return clean

    def json_schema(self, *, partial: bool = False) -> dict[str, Any]:
        if self.free_form and not self.fields:
            return {
                "type": "object",
                "additionalProperties": {"type": ["string", "integer", "boolean"]},
            }
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {field.name: _field_schema(field) for field in self.fields},
            "additionalProperties": self.free_form,
        }
        required = [field.name for field in self.fields if field.required]
        if required and not partial:
            schema["required"] = required
        return schema


UNSTORABLE = "must not contain NUL characters or unpaired surrogates"


def storable_text(text: str) -> bool:
    """Text a database can keep: PostgreSQL refuses NUL, and UTF-8 has no lone surrogates."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _coerce(field: Field, value: object, where: str) -> Any:
    if value is None:
        if field.nullable:
            return None
        raise ValidationFailed({where: "must not be null"})
    if field.kind == "array":
        return _coerce_array(field, value, where)
    if field.kind == "object":
        if field.items is None:
            raise ValueError(f"object field {field.name} needs an items schema")
        return field.items.validate(value, path=where)
    return _coerce_scalar(field.kind, field, value, where)


def _coerce_array(field: Field, value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationFailed({where: "must be a list"})
    if field.max_length is not None and len(value) > field.max_length:
        raise ValidationFailed({where: f"must have at most {field.max_length} items"})
    errors: dict[str, str] = {}
    clean: list[Any] = []
    for index, item in enumerate(value):
        item_path = f"{where}[{index}]"
        try:
            if field.items is not None:
                clean.append(field.items.validate(item, path=item_path))
            else:
                item_field = _scalar_item(field)
                clean.append(_coerce_scalar(item_field.kind, item_field, item, item_path))
        except ValidationFailed as failed:
            errors.update(failed.fields)
    if errors:
        raise ValidationFailed(errors)
    return clean


def _scalar_item(field: Field) -> Field:
    """The rule for each item of an array of scalars (validated and documented alike)."""
    kind = field.item_kind or "string"
    return Field(name=field.name, kind=kind, max_length=200 if kind == "string" else None)


def _coerce_scalar(kind: str, field: Field, value: object, where: str) -> Any:
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValidationFailed({where: "must be true or false"})
        return value
    if kind == "integer":
        return _check_integer(field, value, where)
    if not isinstance(value, str):
        raise ValidationFailed({where: "must be a string"})
    if not storable_text(value):
        raise ValidationFailed({where: UNSTORABLE})
    if kind == "datetime":
        return _parse_datetime(value, where)
    text = value.strip()
    if kind == "currency":
        text = text.upper()
        if not CURRENCY_RE.match(text):
            raise ValidationFailed({where: "must be a three-letter ISO 4217 currency code"})
        return text
    if kind == "email":
        if len(text) > 254 or not EMAIL_RE.match(text):
            raise ValidationFailed({where: "must be an email address"})
        return text
    return _check_string(field, text, where)


def _check_integer(field: Field, value: object, where: str) -> int:
    # JSON has one number type: 766.0 is the integer 766 (as JSON Schema's "integer" says).
    if isinstance(value, float) and value.is_integer() and abs(value) <= INT64_MAX:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed({where: "must be an integer"})
    low, high = field.minimum, field.maximum
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValidationFailed({where: "is out of range"})
    if low is not None and high is not None and not low <= value <= high:
        raise ValidationFailed({where: f"must be between {low} and {high}"})
    if low is not None and value < low:
        raise ValidationFailed({where: f"must be at least {low}"})
    if high is not None and value > high:
        raise ValidationFailed({where: f"must be at most {high}"})
    return value


def _check_string(field: Field, text: str, where: str) -> str:
    if field.choices is not None and text not in field.choices:
        raise ValidationFailed({where: "must be one of: " + ", ".join(field.choices)})
    if field.min_length is not None and len(text) < field.min_length:
        message = "must not be empty" if field.min_length == 1 else None
        raise ValidationFailed(
            {where: message or f"must be at least {field.min_length} characters"}
        )
    if field.max_length is not None and len(text) > field.max_length:
        raise ValidationFailed({where: f"must be at most {field.max_length} characters"})
    if field.pattern is not None and not re.fullmatch(field.pattern, text):
        raise ValidationFailed({where: field.pattern_hint or "has an invalid format"})
    return text


def _parse_datetime(value: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed({where: "must be an ISO 8601 date-time"}) from None
    if parsed.tzinfo is None:
        raise ValidationFailed({where: "must include a timezone offset (e.g. Z)"})
    return parsed


def _field_schema(field: Field) -> dict[str, Any]:
    schema: dict[str, Any]
    if field.kind == "array":
        if field.items is not None:
            item_schema = field.items.json_schema()
        else:
            item_schema = _field_schema(_scalar_item(field))
        schema = {"type": "array", "items": item_schema}
        if field.max_length is not None:
            schema["maxItems"] = field.max_length
    elif field.kind == "object":
        schema = field.items.json_schema() if field.items is not None else {"type": "object"}
    else:
        schema = _scalar_schema(field)
    if field.nullable:
        json_type = schema.get("type")
        if isinstance(json_type, str):
            schema["type"] = [json_type, "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    if field.description:
        schema["description"] = field.description
    return schema


def _scalar_schema(field: Field) -> dict[str, Any]:
    if field.kind == "integer":
        schema: dict[str, Any] = {
            "type": "integer",
            "minimum": INT64_MIN if field.minimum is None else field.minimum,
            "maximum": INT64_MAX if field.maximum is None else field.maximum,
        }
        return schema
    if field.kind == "boolean":
        return {"type": "boolean"}
    if field.kind == "datetime":
        return {"type": "string", "format": "date-time"}
    if field.kind == "email":
        return {"type": "string", "format": "email", "maxLength": 254}
    if field.kind == "currency":
        return {"type": "string", "pattern": "^[A-Za-z]{3}$"}
    schema = {"type": "string"}
    if field.choices is not None:
        schema["enum"] = list(field.choices)
    if field.min_length is not None:
        schema["minLength"] = field.min_length
    if field.max_length is not None:
        schema["maxLength"] = field.max_length
    if field.pattern is not None:
        schema["pattern"] = f"^(?:{field.pattern})$"
    return schema
