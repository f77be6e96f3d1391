"""The mandatory compliance topics: customers/data_request, customers/redact, shop/redact.

Thin handlers over plugin.services.privacy. They run even for an uninstalled or unknown shop
(processing calls compliance handlers regardless), never commit, and are safe to run twice.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app

from connectors.base import MalformedPayload
from plugin.ingest.registry import HandlerContext, handler
from plugin.services import privacy

logger = logging.getLogger(__name__)


def _export_root() -> Path:
    return privacy.export_root(current_app.config["TASTEMAKER"].media_dir)


def _customer(context: HandlerContext, order_ids_key: str) -> privacy.CustomerRef:
    try:
        return privacy.CustomerRef.from_payload(context.payload, order_ids_key)
    except (TypeError, ValueError, AttributeError) as exc:
        raise MalformedPayload(f"{context.event.topic} body: {exc}") from exc


@handler("customer_data_request")
def customer_data_request(context: HandlerContext) -> None:
    """Write the export the merchant downloads and sends to the customer."""
    if context.shop is None:
        logger.info("data request for unknown shop %s: nothing held", context.event.shop_domain)
        return
    ref = _customer(context, "orders_requested")
    request = context.payload.get("data_request") or {}
    request_id = int(request.get("id") or context.event.id)
    data = privacy.export_customer_data(context.session, context.shop.id, ref)
    data["data_request_id"] = request_id
    path = privacy.write_export(_export_root(), context.shop.id, request_id, data)
    logger.info(
        "data request %s for shop %s: %d orders exported to %s",
        request_id,
        context.shop.id,
        len(data["orders"]),
        path,
    )


@handler("customer_redact")
def customer_redact(context: HandlerContext) -> None:
    if context.shop is None:
        logger.info("redact for unknown shop %s: nothing held", context.event.shop_domain)
        return
    ref = _customer(context, "orders_to_redact")
    summary = privacy.redact_customer(context.session, context.shop.id, ref)
    logger.info(
        "customer redacted in shop %s: %d orders, %d clicks, %d attributions, %d UGC posts, "
        "%d webhook bodies",
        context.shop.id,
        summary.orders,
        summary.clicks,
        summary.attributions,
        summary.ugc_posts,
        summary.webhook_events,
    )


@handler("shop_redact")
def shop_redact(context: HandlerContext) -> None:
    shop = context.shop
    if shop is None:
        logger.info("shop/redact for %s: nothing held", context.event.shop_domain)
        return
    if shop.status == "active":
        # Shopify sends shop/redact 48 h after an uninstall; an active shop reinstalled since.
        logger.warning("shop/redact for active shop %s ignored (reinstalled)", shop.id)
        return
    privacy.redact_shop(
        context.session, shop.id, keep_event_id=context.event.id, export_root=_export_root()
    )
