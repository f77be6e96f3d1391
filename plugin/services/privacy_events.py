"""Erasing a customer from the webhook inbox: stored bodies that name them keep only their ids.

Part of a customer redaction (plugin.services.privacy.redact_customer); never commits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import MalformedPayload
from connectors.payload import load_json
from plugin.crypto import hash_email
from plugin.models import WebhookEvent

if TYPE_CHECKING:
    # privacy imports this module; the reference type is only needed for annotations.
    from plugin.services.privacy import CustomerRef

# Inbox bodies that may carry a customer's personal data in clear.
PERSONAL_TOPICS = (
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/cancelled",
    "refunds/create",
    "customers/data_request",
    "customers/redact",
)


def redact_event_bodies(
    session: Session, shop_id: int, ref: CustomerRef, platform_order_ids: set[int]
) -> int:
    """Cut stored webhook bodies that name the customer down to their ids. Returns how many."""
    wanted_orders = platform_order_ids | set(ref.platform_order_ids)
    events = session.scalars(
        select(WebhookEvent).where(
            WebhookEvent.shop_id == shop_id, WebhookEvent.topic.in_(PERSONAL_TOPICS)
        )
    )
    redacted = 0
    for event in events:
        try:
            body = load_json(bytes(event.body))
        except MalformedPayload:
            continue
        if not isinstance(body, dict) or not _mentions(body, event.topic, ref, wanted_orders):
            continue
        event.body = json.dumps(_skeleton(body, event.topic)).encode()
        redacted += 1
    return redacted


def _mentions(body: dict[str, Any], topic: str, ref: CustomerRef, order_ids: set[int]) -> bool:
    customer = body.get("customer") if isinstance(body.get("customer"), dict) else {}
    customer_id = customer.get("id") if customer else None
    if ref.customer_id and customer_id is not None and str(customer_id) == ref.customer_id:
        return True
    if (
        ref.email_hash
        and hash_email(
            (customer or {}).get("email") or body.get("email") or body.get("contact_email")
        )
        == ref.email_hash
    ):
        return True
    key = "order_id" if topic == "refunds/create" else "id"
    return topic.startswith(("orders/", "refunds/")) and _as_int(body.get(key)) in order_ids


def _skeleton(body: dict[str, Any], topic: str) -> dict[str, Any]:
    """What stays of a body once its personal data is gone: the ids that explain the event."""
    keep: Sequence[str] = ("id", "order_id", "shop_id", "shop_domain", "updated_at")
    skeleton = {key: body[key] for key in keep if key in body}
    if topic.startswith("customers/"):
        skeleton["orders_requested"] = body.get("orders_requested")
        skeleton["orders_to_redact"] = body.get("orders_to_redact")
    skeleton["redacted"] = True
    return skeleton


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
