"""The OpenAPI 3.1 document, built from the route declarations (`api_route`)."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.routing import Map

from plugin.domain.validation import Schema
from plugin.web.admin_api.base import API_PREFIX, COMPONENTS, OPERATIONS, Operation, bp, ref
from plugin.web.errors import MAX_ID

GENERIC = "JsonDocument"
RULE_PARAM = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)>")

ERROR_RESPONSES = {
    400: ("The body is not valid JSON", "Error"),
    401: ("No valid API key or session token", "Error"),
    404: ("No such resource in this shop", "Error"),
    409: ("The resource's current state does not allow this", "Error"),
    422: ("Field-level validation errors", "ValidationError"),
}


def openapi_path(rule: str) -> str:
    return RULE_PARAM.sub(lambda match: "{" + match.group("name") + "}", rule)


def build_document(public_url: str, url_map: Map | None = None) -> dict[str, Any]:
    """The document for every declared operation, plus any other /api/v1 route in `url_map`
    (described from its view's docstring) so that no served route goes undocumented."""
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
            "required": ["error"],
        },
        "ValidationError": {
            "type": "object",
            "properties": {
                "error": {"const": "validation"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["error", "fields"],
            "examples": [
                {
                    "error": "validation",
                    "fields": {"commission_rate_bps": "must be between 0 and 10000"},
                }
            ],
        },
        GENERIC: {"type": ["object", "array"]},
        **COMPONENTS,
    }
    paths: dict[str, dict[str, Any]] = {}
    operations = list(OPERATIONS)
    if url_map is not None:
        operations += _undeclared(url_map, {(op.rule, op.method) for op in OPERATIONS})
    for operation in operations:
        paths.setdefault(openapi_path(operation.rule), {})[operation.method.lower()] = _operation(
            operation, schemas
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tastemaker admin API",
            "version": "1",
            "description": (
                "Manage creators, campaigns, agreements, discount codes and referral links; read "
                "attributions, the commission ledger, payouts and metrics. Every route acts on "
                "the calling shop only. Money is integer minor units plus an ISO 4217 currency."
            ),
        },
        "servers": [{"url": public_url}],
        "security": [{"bearerApiKey": []}, {"headerApiKey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerApiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer tmk_…` (a shop API key)",
                },
                "headerApiKey": {"type": "apiKey", "in": "header", "name": "X-Tastemaker-Key"},
            },
        },
    }


def _undeclared(url_map: Map, declared: set[tuple[str, str]]) -> list[Operation]:
    found = []
    for rule in url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        view = current_app.view_functions.get(rule.endpoint)
        doc = (getattr(view, "__doc__", None) or "").strip().splitlines()
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (rule.rule, method) in declared:
                continue
            found.append(
                Operation(
                    method=method,
                    rule=rule.rule,
                    operation_id=rule.endpoint.replace(".", "_") + "_" + method.lower(),
                    summary=doc[0] if doc else rule.endpoint,
                    tag=rule.endpoint.split(".", 1)[0],
                    response=GENERIC,
                    errors=(400, 409, 422),
                )
            )
    return found


def _operation(operation: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    parameters = [
        {
            "name": match.group("name"),
            "in": "path",
            "required": True,
            "schema": (
                {"type": "integer", "minimum": 0, "maximum": MAX_ID}
                if match.group("converter") == "int"
                else {"type": "string"}
            ),
        }
        for match in RULE_PARAM.finditer(operation.rule)
    ]
    for field in operation.query:
        schema = Schema("query", (field,)).json_schema()["properties"][field.name]
        parameters.append({"name": field.name, "in": "query", "required": False, "schema": schema})
    spec: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": parameters,
        "responses": _responses(operation),
    }
    if operation.request is not None:
        name = operation.request.name + ("Patch" if operation.partial else "")
        schemas[name] = operation.request.json_schema(partial=operation.partial)
        # An empty body is read as {}: it is only required when some field is.
        required = any(field.required for field in operation.request.fields)
        spec["requestBody"] = {
            "required": required and not operation.partial,
            "content": {"application/json": {"schema": ref(name)}},
        }
    return spec


def _responses(operation: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if operation.produces == "text/csv":
        body = {"text/csv": {"schema": {"type": "string"}}}
        responses[str(operation.status)] = {"description": "CSV file", "content": body}
    elif operation.response is None:
        responses[str(operation.status)] = {"description": "Done"}
    else:
        schema = ref(operation.response)
        if operation.paginated:
            schema = {
                "type": "object",
                "properties": {
                    "data": {"type": "array", "items": schema},
                    "next_cursor": {"type": ["string", "null"]},
                },
                "required": ["data", "next_cursor"],
            }
        responses[str(operation.status)] = {
            "description": "Success",
            "content": {"application/json": {"schema": schema}},
        }
    codes = {401, *operation.errors}
    if "<" in operation.rule:
        codes.add(404)
    if operation.request is not None:
        codes |= {400, 422}
    if operation.query:
        codes.add(422)
    for code in sorted(codes):
        description, component = ERROR_RESPONSES[code]
        responses[str(code)] = {
            "description": description,
            "content": {"application/json": {"schema": ref(component)}},
        }
    return responses


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    return jsonify(build_document(current_app.config["TASTEMAKER"].public_url, current_app.url_map))
