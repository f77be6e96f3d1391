"""The admin API's blueprint, route declarations and request helpers.

Routes are declared with `api_route`, which records what the OpenAPI document needs (summary,
query parameters, request schema, response component) next to the Flask rule: the document is
built from these declarations, and a test checks it against `app.url_map`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import Select
from werkzeug.exceptions import NotFound

from plugin.db import get_session
from plugin.domain.validation import Field, Schema, ValidationFailed
from plugin.models.base import TenantMixin
from plugin.services.creators import InvalidTransition
from plugin.services.payouts import PayoutTransitionError
from plugin.web.auth import current_tenant, require_shop

API_PREFIX = "/api/v1"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200

bp = Blueprint("admin_api", __name__)


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # the Flask rule, e.g. /api/v1/creators/<int:creator_id>
    operation_id: str
    summary: str
    tag: str
    request: Schema | None = None
    partial: bool = False
    response: str | None = None  # a component name; None means no body (204)
    status: int = 200
    query: tuple[Field, ...] = ()
    paginated: bool = False
    produces: str = "application/json"
    errors: tuple[int, ...] = ()


OPERATIONS: list[Operation] = []
COMPONENTS: dict[str, dict[str, Any]] = {}


def component(name: str, schema: dict[str, Any]) -> str:
    COMPONENTS[name] = schema
    return name


def api_route(
    rule: str, method: str, *, summary: str, tag: str, **spec: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a tenant-scoped JSON route under /api/v1 and describe it for OpenAPI."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        name = view.__name__
        operation = describe_operation(
            API_PREFIX + rule, method, operation_id=name, summary=summary, tag=tag, **spec
        )
        bp.add_url_rule(operation.rule, name, require_shop(view), methods=[method])
        return view

    return decorate


def read_route(
    rule: str,
    model: type[Any],
    serialize: Callable[[Any], dict[str, Any]],
    *,
    name: str,
    summary: str,
    tag: str,
    response: str,
) -> None:
    """Declare GET <rule> answering one of this shop's rows (its id is the rule's one argument)."""

    def view(**row_id: int) -> Response:
        (value,) = row_id.values()
        return jsonify(serialize(owned_or_404(model, value)))

    view.__name__ = view.__qualname__ = name
    api_route(rule, "GET", summary=summary, tag=tag, response=response)(view)


def list_route(
    rule: str,
    model: type[TenantMixin],
    serialize: Callable[[Any], dict[str, Any]],
    *,
    name: str,
    summary: str,
    tag: str,
    response: str,
    query: tuple[Field, ...],
    match: Sequence[str] = (),
) -> None:
    """Declare GET <rule> listing this shop's rows, newest first, filtered on `match` parameters."""

    def view() -> Response:
        return list_json(model, query, serialize, match=match)

    view.__name__ = view.__qualname__ = name
    spec = {"response": response, "query": query, "paginated": True}
    api_route(rule, "GET", summary=summary, tag=tag, **spec)(view)


def describe_operation(
    rule: str, method: str, *, operation_id: str, summary: str, tag: str, **spec: Any
) -> Operation:
    """Document a route another blueprint serves under /api/v1 (full Flask rule, e.g. UGC's)."""
    operation = Operation(
        method=method, rule=rule, operation_id=operation_id, summary=summary, tag=tag, **spec
    )
    OPERATIONS.append(operation)
    return operation


# --- errors -------------------------------------------------------------------------------------


@bp.errorhandler(ValidationFailed)
def validation_failed(error: ValidationFailed) -> tuple[Response, int]:
    return jsonify(error="validation", fields=error.fields), 422


@bp.errorhandler(InvalidTransition)
@bp.errorhandler(PayoutTransitionError)
def conflict(error: Exception) -> tuple[Response, int]:
    return jsonify(error="conflict", message=str(error)), 409


@bp.errorhandler(NotFound)
def not_found(_error: NotFound) -> tuple[Response, int]:
    return jsonify(error="not_found", message="no such resource in this shop"), 404


class MalformedJson(Exception):
    pass


@bp.errorhandler(MalformedJson)
def malformed_json(error: MalformedJson) -> tuple[Response, int]:
    return jsonify(error="malformed_json", message=str(error)), 400


# --- request helpers ----------------------------------------------------------------------------


def json_body(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        data: object = {}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise MalformedJson(f"the request body is not valid JSON: {exc}") from None
    return schema.validate(data, partial=partial)


def query_values(fields: Sequence[Field]) -> dict[str, Any]:
    """Parse query parameters with the same field rules as bodies (integers are converted)."""
    raw: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in fields:
        value = request.args.get(spec.name)
        if value is None:
            continue  # `?name=` is a value, checked like any other (an empty id is not an id)
        if spec.kind == "integer":
            try:
                raw[spec.name] = int(value)
            except ValueError:  # also a number with more than 4300 digits
                errors[spec.name] = "must be an integer"
        else:
            raw[spec.name] = value
    try:
        clean = Schema("query", tuple(fields), free_form=False).validate(raw, partial=True)
    except ValidationFailed as failed:
        errors.update(failed.fields)
        clean = {}
    if "cursor" in raw:
        try:
            decode_cursor(raw["cursor"])
        except ValidationFailed as failed:
            errors.update(failed.fields)
    if errors:
        raise ValidationFailed(errors)
    return clean


def owned_or_404(model: type[Any], row_id: int) -> Any:
    row = current_tenant().get(model, row_id)
    if row is None:
        raise NotFound()
    return row


def owned_or_invalid(model: type[Any], row_id: int, field: str) -> Any:
    """A referenced row from the body: absent from this shop is a field error (422), not a 404."""
    row = current_tenant().get(model, row_id)
    if row is None:
        raise ValidationFailed({field: "does not exist in this shop"})
    return row


def commit() -> None:
    get_session().commit()


def saved(
    render: Callable[..., dict[str, Any]], *args: Any, status: int = 200
) -> tuple[Response, int]:
    """Commit, then render: the body shows what the database now holds (ids, defaults)."""
    commit()
    return jsonify(render(*args)), status


# --- pagination ---------------------------------------------------------------------------------

CURSOR_HINT = "is not a cursor this API returned"
PAGE_QUERY = (
    Field("limit", "integer", minimum=1, maximum=MAX_LIMIT, description="page size (default 50)"),
    Field(
        "cursor",
        "string",
        pattern=r"[0-9]{1,18}",
        pattern_hint=CURSOR_HINT,
        description="next_cursor of the previous page",
    ),
)


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str | None


def paginate(query: Select[Any], model: type[TenantMixin], params: Mapping[str, Any]) -> Page:
    """Newest first, keyset on id: stable under inserts, no OFFSET scans."""
    id_column = model.id  # type: ignore[attr-defined]
    limit = int(params.get("limit") or DEFAULT_LIMIT)
    cursor = params.get("cursor")
    if cursor:
        query = query.where(id_column < decode_cursor(cursor))
    rows = list(get_session().scalars(query.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more else None)


def list_page(
    model: type[TenantMixin], fields: Sequence[Field], *, match: Sequence[str] = ()
) -> Page:
    """Parse a list's query; page its rows, keeping those equal to each `match` parameter given."""
    params = query_values(fields)
    criteria = [getattr(model, name) == params[name] for name in match if name in params]
    return paginate(current_tenant().select(model, *criteria), model, params)


def list_json(
    model: type[TenantMixin],
    fields: Sequence[Field],
    serialize: Callable[[Any], dict[str, Any]],
    *,
    match: Sequence[str] = (),
) -> Response:
    return page_json(list_page(model, fields, match=match), serialize)


def encode_cursor(row_id: int) -> str:
    """The last id of a page: keyset pagination needs nothing else, and /openapi.json can then
    say exactly which cursors are valid (any of them is: a page below that id)."""
    return str(row_id)


def decode_cursor(cursor: str) -> int:
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise ValidationFailed({"cursor": CURSOR_HINT})
    return int(cursor)


def page_json(page: Page, serialize: Callable[[Any], dict[str, Any]]) -> Response:
    return jsonify(data=[serialize(row) for row in page.rows], next_cursor=page.next_cursor)


# --- representation helpers ---------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def obj(properties: Mapping[str, Any], *, optional: Sequence[str] = ()) -> dict[str, Any]:
    """A closed object schema whose properties are all present unless named optional."""
    return {
        "type": "object",
        "properties": dict(properties),
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}


def nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    return {**schema, "type": [kind, "null"]} if isinstance(kind, str) else dict(schema)
