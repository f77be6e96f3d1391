"""The generic topic handlers named in manifest.yml (the compliance ones live in privacy.py).

Each takes a HandlerContext, writes through the session it carries and never commits: the
processing step commits the handler's writes together with the event's new status. Order and
refund handlers go through plugin.services.orders, whose functions are idempotent and
order-independent, so redeliveries and reconciliation can replay any payload safely.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from connectors.base import Connector, MalformedPayload
from plugin import background
from plugin.ingest.registry import HandlerContext, handler
from plugin.models import DiscountCode, Shop, utcnow
from plugin.services.shops import mark_uninstalled
from plugin.tenancy import Tenant

logger = logging.getLogger(__name__)

# WooCommerce coupon post statuses under which the code no longer applies at checkout (the
# connector deactivates by moving date_expires into the past, also read below).
INACTIVE_COUPON_STATUSES = frozenset({"trash", "draft", "pending", "private"})


def apply_order_payload(session: Session, shop: Shop, connector: Connector, payload: Any) -> None:
    """Webhooks and reconciliation share this path: parse, then apply idempotently."""
    order = connector.parse_order(_mapping(payload))
    from plugin.services.orders import apply_order

    apply_order(session, shop, order)


@handler("order_changed")
def order_changed(context: HandlerContext) -> None:
    apply_order_payload(context.session, _shop(context), context.connector, context.payload)


@handler("refund_created")
def refund_created(context: HandlerContext) -> None:
    shop = _shop(context)
    refund = context.connector.parse_refund(_mapping(context.payload), shop.currency)
    from plugin.services.orders import apply_refund

    apply_refund(context.session, shop, refund)


@handler("order_deleted")
def order_deleted(context: HandlerContext) -> None:
    platform_order_id = _platform_id(context.payload)
    from plugin.services.orders import delete_order

    delete_order(context.session, _shop(context), platform_order_id)


@handler("coupon_changed")
def coupon_changed(context: HandlerContext) -> None:
    """Keep our copy of a creator code in step with the store (WooCommerce coupon.* topics)."""
    shop = _shop(context)
    payload = _mapping(context.payload)
    platform_id = str(_platform_id(payload))
    tenant = Tenant(context.session, shop.id)
    code = tenant.first(DiscountCode, DiscountCode.platform_id == platform_id)
    if code is None and payload.get("code"):
        code = tenant.first(
            DiscountCode, DiscountCode.code_normalized == str(payload["code"]).strip().lower()
        )
        if code is not None and code.platform_id is None:
            code.platform_id = platform_id
    if code is None:
        return  # a coupon the merchant made outside Tastemaker
    status = "active" if _coupon_applies(context.event.topic, payload) else "deactivated"
    if code.status == "deactivated" and status == "active":
        # Never re-activated by a store event: the merchant (or a store that ignored our write)
        # made it usable again, so it is deactivated there again, once; a failure stays on
        # the code for the merchant to see instead of looping.
        if code.error is None and code.platform_id is not None:
            code.error = "the store showed this deactivated code as usable again"
            logger.warning(
                "discount code %s of shop %s usable again in the store", code.id, shop.id
            )
            background.after_commit(context.session, background.REASSERT_DEACTIVATION, code.id)
        return
    if code.status != status:
        logger.info(
            "discount code %s of shop %s: %s -> %s (store %s)",
            code.id,
            shop.id,
            code.status,
            status,
            context.event.topic,
        )
        code.status = status


@handler("app_uninstalled")
def app_uninstalled(context: HandlerContext) -> None:
    """Stop acting for the shop; its data stays until shop/redact (privacy.py) asks otherwise."""
    shop = _shop(context)
    triggered = context.event.triggered_at
    if triggered is not None and shop.installed_at is not None and triggered < shop.installed_at:
        # A late delivery from before a reinstall must not uninstall the new installation.
        logger.info("stale app/uninstalled for shop %s ignored (reinstalled since)", shop.id)
        return
    mark_uninstalled(context.session, shop, triggered or utcnow())


def _coupon_applies(topic: str, payload: Mapping[str, Any]) -> bool:
    """Whether the store still honours the coupon: not deleted, not unpublished, not expired."""
    if topic.endswith(".deleted"):
        return False
    if str(payload.get("status") or "publish") in INACTIVE_COUPON_STATUSES:
        return False
    expires = payload.get("date_expires_gmt")
    if not expires:
        return True
    try:
        moment = datetime.fromisoformat(str(expires))
    except ValueError:
        raise MalformedPayload(f"coupon date_expires_gmt {expires!r} is not a date") from None
    # WooCommerce's *_gmt fields are UTC without an offset.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) > utcnow()


def _shop(context: HandlerContext) -> Shop:
    if context.shop is None:
        # Processing only calls non-compliance handlers with a known shop.
        raise LookupError(f"webhook event {context.event.id} has no shop")
    return context.shop


def _mapping(payload: Any) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise MalformedPayload(f"expected a JSON object, got {type(payload).__name__}")
    return payload


def _platform_id(payload: Any) -> int:
    value = _mapping(payload).get("id")
    if isinstance(value, bool):
        raise MalformedPayload("payload id is not an integer")
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MalformedPayload(f"payload id {value!r} is not an integer") from None
