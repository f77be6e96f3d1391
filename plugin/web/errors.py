"""App-wide answers for machine clients: JSON errors under /api/ and database data errors.

Blueprint handlers answer the errors their own views raise. What happens before a view runs
(no route matched, a method not allowed, a body over the size limit) reaches only the app, and a
client of /api/v1 that was promised JSON must not get Flask's HTML page. A value the database
refuses to store (text with NUL, a number out of range) is the client's mistake, never a 500.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Response, jsonify, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import IntegerConverter

from plugin.db import get_session

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/openapi.json", "/healthz", "/readyz")
# Every id column is a signed 64-bit integer (BIGINT on PostgreSQL, INTEGER on SQLite).
MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """`<int:…>` for row ids: a number no row can have is a 404, not a database error.

    NotFound is raised instead of the converter's ValidationError: with a ValidationError
    Werkzeug goes on to the path's rules for other methods and answers 405."""

    def to_python(self, value: str) -> int:
        number = int(super().to_python(value))
        if number > MAX_ID:
            raise NotFound()
        return number


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: the `int` converter is bound when a rule is added."""
    app.url_map.converters["int"] = IdConverter
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DataError, _data_error)


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def _http_error(error: HTTPException) -> Response | HTTPException:
    if not wants_json() or error.code is None:
        return error
    name = (error.name or "error").lower().replace(" ", "_")
    response = jsonify(error=name, message=error.description)
    response.status_code = error.code
    for header, value in error.get_headers():  # Allow on a 405, for one
        if header.lower() != "content-type":
            response.headers[header] = value
    return response


def _data_error(error: DataError) -> tuple[Response, int]:
    get_session().rollback()
    logger.warning("database refused a value: %s %s: %s", request.method, request.path, error.orig)
    return jsonify(
        error="validation",
        fields={"body": "contains a value the database cannot store"},
    ), 422
