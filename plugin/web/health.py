"""Liveness and readiness: /healthz says the process is up, /readyz that its backends answer."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from plugin.db import get_db
from workers.backends import RQBackend
from workers.runtime import get_backend

bp = Blueprint("health", __name__)
logger = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks: dict[str, str] = {}
    try:
        get_db().ping()
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        logger.warning("readiness: database unreachable: %s", exc)
        checks["database"] = "unreachable"
    backend = get_backend()
    if isinstance(backend, RQBackend):
        from redis.exceptions import RedisError

        try:
            backend.ping()
            checks["redis"] = "ok"
        except RedisError as exc:
            logger.warning("readiness: redis unreachable: %s", exc)
            checks["redis"] = "unreachable"
    else:
        checks["queue"] = "in-process"
    failing = [name for name, state in checks.items() if state == "unreachable"]
    status = 503 if failing else 200
    body = {"status": "unavailable" if failing else "ok", "checks": checks}
    if failing:
        body["failing"] = failing
    current_app.logger.debug("readyz %s", body)
    return jsonify(body), status
