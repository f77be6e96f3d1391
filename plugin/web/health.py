"""Liveness and readiness: /healthz says the process is up, /readyz that its backends answer."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from plugin.db import get_db
from plugin.models import utcnow
from plugin.services.backlog import (
    SWEEPER_HEARTBEAT,
    Backlog,
    heartbeat_backlog,
    spool_backlog,
    webhook_backlog,
)
from plugin.services.clicks import SPOOL_NAME as CLICK_SPOOL_NAME
from workers.backends import RQBackend
from workers.runtime import get_backend

bp = Blueprint("health", __name__)
logger = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


def _backlogs(checks: dict[str, str]) -> dict[str, Backlog]:
    """What waits and for how long; parts whose backend is unreachable are left out."""
    settings = current_app.config["TASTEMAKER"]
    backlogs = {"click_spool": spool_backlog(settings.spool_dir / CLICK_SPOOL_NAME)}
    if checks.get("database") == "ok":
        try:
            backlogs["webhooks"] = webhook_backlog(get_db().session(), utcnow())
        except SQLAlchemyError as exc:
            logger.warning("readiness: webhook backlog unknown: %s", exc)
        finally:
            get_db().session().rollback()
    if checks.get("redis") == "ok":
        from redis.exceptions import RedisError

        try:
            backlogs["sweeper"] = heartbeat_backlog(get_backend().last_beat(SWEEPER_HEARTBEAT))
        except RedisError as exc:
            logger.warning("readiness: sweeper heartbeat unknown: %s", exc)
    return backlogs


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
    body: dict[str, object] = {"status": "unavailable" if failing else "ok", "checks": checks}
    if failing:
        body["failing"] = failing
    backlogs = _backlogs(checks)
    body["backlog"] = {name: backlog.as_json() for name, backlog in backlogs.items()}
    stale = [name for name, backlog in backlogs.items() if backlog.stale]
    if stale:
        body["stale"] = stale
    current_app.logger.debug("readyz %s", body)
    return jsonify(body), status
