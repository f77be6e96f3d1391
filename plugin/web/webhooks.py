"""`POST /webhooks/<platform>`: raw bytes -> verify -> record -> enqueue after commit -> fast 2xx.

The topic comes from the platform's headers; the connector checks the signature over the unparsed
body before anything else looks at it. While the database is unreachable, deliveries are kept in
the local spool and answered 202 (WooCommerce never retries, and disables a failing webhook).
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import RequestEntityTooLarge

from connectors.base import InboundWebhook, WebhookRejected
from plugin.db import get_session
from plugin.extensions import connectors, credentials
from plugin.ingest.inbox import contexts_for, inbound, receive, spool_delivery, spool_for
from plugin.ingest.replayer import ensure_replayer
from plugin.ingest.stats import stats_for

bp = Blueprint("webhooks", __name__)
logger = logging.getLogger(__name__)

READ_CHUNK = 64 * 1024
# How much of an oversized body is read (and dropped) so the client gets to see the 413.
DISCARD_FACTOR = 4
DISCARD_MINIMUM = 4 * 1024 * 1024


@bp.post("/webhooks/<platform>")
def receive_webhook(platform: str) -> ResponseReturnValue:
    registry = connectors()
    if platform not in registry.platforms():
        return jsonify(error="unknown_platform"), 404
    stats = stats_for()
    limit = current_app.config["TASTEMAKER"].webhook_max_body_bytes
    body = _read_body(limit)
    if body is None:
        stats.rejected(platform, "body_too_large")
        logger.warning("webhook rejected: platform=%s reason=body_too_large", platform)
        _discard_rest_of_body(limit)
        response = jsonify(error="body_too_large", limit=limit)
        response.headers["Connection"] = "close"
        return response, 413
    delivery = inbound(body, request.headers, request.mimetype)
    session = get_session()
    try:
        receipt = receive(
            session,
            registry.get(platform),
            credentials(),
            delivery,
            contexts=contexts_for(current_app._get_current_object()),  # type: ignore[attr-defined]
        )
    except WebhookRejected as exc:
        stats.rejected(platform, exc.reason)
        logger.warning(
            "webhook rejected: platform=%s reason=%s status=%s", platform, exc.reason, exc.status
        )
        return jsonify(error=exc.reason), exc.status
    except (DBAPIError, PoolTimeoutError) as exc:
        _rollback_quietly()
        return _spool(platform, delivery, exc)
    stats.outcome(platform, receipt.outcome)
    if receipt.outcome == "ping":
        return "", 200  # WooCommerce's creation ping needs exactly 200
    return jsonify(status=receipt.outcome), 200


LOOPBACK = ("127.0.0.1", "::1")


@bp.get("/internal/webhook-stats")
def webhook_stats() -> ResponseReturnValue:
    """This process's counters (per gunicorn worker): accepted outcomes and rejection reasons.

    Operational data for the host itself (health checks, an exporter): not served to the world.
    """
    if request.remote_addr not in LOOPBACK:
        return jsonify(error="not_found"), 404
    return jsonify(stats_for().snapshot())


def _read_body(limit: int) -> bytes | None:
    """The raw body, or None when it is larger than `limit` (declared or actually sent)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            chunk = request.stream.read(min(READ_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:
        return None
    return None if size > limit else b"".join(chunks)


def _discard_rest_of_body(limit: int) -> None:
    """Read what the client is still sending (up to a bound) before answering 413.

    A server that answers and closes while the client is still writing makes the client's
    socket see a reset instead of the answer; a platform then counts a network error, not a
    413. Bodies far past the limit are not read to the end: those clients see the reset."""
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return
    remaining = max(DISCARD_FACTOR * limit, DISCARD_MINIMUM)
    declared = request.content_length
    if declared is not None:
        remaining = min(remaining, declared)
    try:
        while remaining > 0:
            chunk = stream.read(min(READ_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
    except OSError:
        return  # the client went away: nothing to answer


def _spool(platform: str, delivery: InboundWebhook, exc: Exception) -> ResponseReturnValue:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        spool_delivery(spool_for(app), platform, delivery)
    except OSError as spool_error:
        logger.error(
            "webhook lost for now: database down (%s) and spool failed (%s); asking for a retry",
            exc,
            spool_error,
        )
        return jsonify(error="unavailable"), 503
    ensure_replayer(app)
    stats_for().outcome(platform, "spooled")
    logger.warning("database unavailable, webhook spooled: platform=%s error=%s", platform, exc)
    return jsonify(status="spooled"), 202


def _rollback_quietly() -> None:
    try:
        get_session().rollback()
    except SQLAlchemyError as exc:  # the connection is already gone; nothing left to undo
        logger.debug("rollback after database error failed: %s", exc)
