"""Privacy requests: export what we hold about a customer, erase it, erase a whole shop.

Platform-neutral: a customer is named by the store's customer id, a hash of their email and the
store's order ids (Shopify's customers/* payloads carry all three). Redaction removes personal
data (customer ids, email hashes, landing and referring URLs, click visitor hashes, matching UGC,
the raw webhook bodies that carried them) and keeps the money: orders keep their amounts and
line items, the ledger and attributions keep every row, so balances and payouts stay exact.

Exports are JSON files under `<export root>/<shop id>/<request id>.json`; the merchant fetches
them through the admin (plugin.web.shopify_auth serves them to the shop's own session).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, delete, false, or_
from sqlalchemy.orm import Session

from plugin.crypto import hash_email
from plugin.models import (
    Attribution,
    Click,
    OAuthState,
    Order,
    Refund,
    Reward,
    Shop,
    UgcPost,
    WebhookEvent,
    utcnow,
)
from plugin.models.email import OutboundEmail
from plugin.services import rollups
from plugin.services.privacy_events import redact_event_bodies
from plugin.tenancy import Tenant

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
CLICK_SEPARATORS = re.compile(r"[\s,;]+")
# Columns that, where a model has them, name a store customer (UGC rows from shoppers).
CUSTOMER_ID_COLUMNS = ("customer_ref",)
CUSTOMER_EMAIL_COLUMNS = ("customer_email_hash",)


@dataclass(frozen=True)
class CustomerRef:
    customer_id: str | None = None
    email_hash: str | None = None
    platform_order_ids: tuple[int, ...] = ()

    @classmethod
    def from_payload(cls, payload: Any, order_ids_key: str) -> CustomerRef:
        """From a customers/data_request or customers/redact body."""
        if not isinstance(payload, dict):
            raise ValueError("privacy request body is not a JSON object")
        customer = payload.get("customer") or {}
        raw_id = customer.get("id")
        ids = payload.get(order_ids_key) or []
        return cls(
            customer_id=str(int(raw_id)) if raw_id is not None else None,
            email_hash=hash_email(customer.get("email")),
            platform_order_ids=tuple(int(value) for value in ids),
        )


@dataclass
class RedactionSummary:
    orders: int = 0
    clicks: int = 0
    attributions: int = 0
    ugc_posts: int = 0
    rewards: int = 0
    webhook_events: int = 0
    scrubbed_values: set[str] = field(default_factory=set)


def customer_orders(session: Session, shop_id: int, ref: CustomerRef) -> list[Order]:
    conditions: list[ColumnElement[bool]] = []
    if ref.customer_id:
        conditions.append(Order.customer_ref == ref.customer_id)
    if ref.email_hash:
        conditions.append(Order.customer_email_hash == ref.email_hash)
    if ref.platform_order_ids:
        conditions.append(Order.platform_order_id.in_(ref.platform_order_ids))
    if not conditions:
        return []
    return Tenant(session, shop_id).all(Order, or_(*conditions))


def export_customer_data(session: Session, shop_id: int, ref: CustomerRef) -> dict[str, Any]:
    """Everything Tastemaker holds about the customer in this shop, as plain JSON."""
    tenant = Tenant(session, shop_id)
    orders = sorted(customer_orders(session, shop_id, ref), key=lambda o: o.placed_at)
    order_ids = [order.id for order in orders]
    platform_ids = [order.platform_order_id for order in orders]
    attributions = tenant.all(Attribution, Attribution.order_id.in_(order_ids)) if orders else []
    refunds = tenant.all(Refund, Refund.platform_order_id.in_(platform_ids)) if orders else []
    click_uids = _click_uids(orders)
    clicks = tenant.all(Click, Click.click_uid.in_(click_uids)) if click_uids else []
    return {
        "generated_at": utcnow().isoformat(),
        "shop_id": shop_id,
        "customer": {"id": ref.customer_id, "email_sha256": ref.email_hash},
        "requested_order_ids": list(ref.platform_order_ids),
        "orders": [_order_export(order) for order in orders],
        "refunds": [
            {
                "platform_refund_id": refund.platform_refund_id,
                "platform_order_id": refund.platform_order_id,
                "refunded_at": refund.refunded_at.isoformat(),
                "item_amount_minor": refund.item_amount_minor,
                "total_amount_minor": refund.total_amount_minor,
                "currency": refund.currency,
            }
            for refund in refunds
        ],
        "attributions": [
            {
                "order_id": attribution.order_id,
                "method": attribution.method,
                "creator_id": attribution.creator_id,
                "evidence": attribution.evidence,
                "self_referral": attribution.self_referral,
            }
            for attribution in attributions
        ],
        "clicks": [
            {
                "click_uid": click.click_uid,
                "occurred_at": click.occurred_at.isoformat(),
                "referrer_host": click.referrer_host,
                "link_id": click.link_id,
            }
            for click in clicks
        ],
        "ugc_posts": [
            {
                "id": post.id,
                "source": post.source,
                "network": post.network,
                "post_url": post.post_url,
                "author_handle": post.author_handle,
                "caption": post.caption,
                "created_at": post.created_at.isoformat(),
            }
            for post in _customer_rows(tenant, UgcPost, ref)
        ],
        "notes": (
            "Tastemaker stores no names, addresses or phone numbers; emails only as SHA-256. "
            "Clicks keep a keyed hash of IP and user agent, never either value."
        ),
    }


def export_root(media_dir: Path) -> Path:
    """Exports sit next to the media directory, never inside it (media is served publicly)."""
    return media_dir.parent / "privacy-exports"


def write_export(root: Path, shop_id: int, request_id: int, data: dict[str, Any]) -> Path:
    directory = root / str(shop_id)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{int(request_id)}.json"
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
    os.replace(partial, target)  # readers never see half a file
    return target


def list_exports(root: Path, shop_id: int) -> list[dict[str, Any]]:
    directory = root / str(shop_id)
    if not directory.is_dir():
        return []
    return [
        {"request_id": int(path.stem), "bytes": path.stat().st_size}
        for path in sorted(directory.glob("*.json"), key=lambda p: int(p.stem))
        if path.stem.isdigit()
    ]


def export_path(root: Path, shop_id: int, request_id: int) -> Path | None:
    path = root / str(int(shop_id)) / f"{int(request_id)}.json"
    return path if path.is_file() else None


def redact_customer(session: Session, shop_id: int, ref: CustomerRef) -> RedactionSummary:
    """Erase the customer's personal data; money rows stay. Safe to run twice. Never commits."""
    tenant = Tenant(session, shop_id)
    summary = RedactionSummary()
    orders = customer_orders(session, shop_id, ref)
    secrets_seen = {value for value in (ref.customer_id, ref.email_hash) if value}
    for order in orders:
        secrets_seen |= {
            value
            for value in (order.customer_ref, order.customer_email_hash, order.landing_site)
            if value
        }
        if order.referring_site:
            secrets_seen.add(order.referring_site)
        order.customer_ref = None
        order.customer_email_hash = None
        order.landing_site = None
        order.referring_site = None
        summary.orders += 1
    # The erased customer no longer counts in anyone's cohort (LTV), as in the raw rows.
    session.flush()
    shop = session.get(Shop, shop_id)
    for order in orders if shop is not None else []:
        rollups.refresh_order(session, shop, order.id)
    click_uids = _click_uids(orders)
    redacted_clicks = tenant.all(Click, Click.click_uid.in_(click_uids)) if click_uids else []
    for click in redacted_clicks:
        click.visitor_hash = ""
        click.referrer_host = None
        summary.clicks += 1
    # The visitor sketches of those days still hold the erased visitors: recount them.
    rollups.recompute_click_cells(
        session, shop_id, [(click.occurred_at, click.link_id) for click in redacted_clicks]
    )
    order_ids = [order.id for order in orders]
    for attribution in (
        tenant.all(Attribution, Attribution.order_id.in_(order_ids)) if order_ids else []
    ):
        scrubbed = _scrub(attribution.evidence, secrets_seen)
        if scrubbed != attribution.evidence:
            attribution.evidence = scrubbed
            summary.attributions += 1
    rewards = _customer_rows(tenant, Reward, ref)
    # A Try & Tag post is the shopper's even though only its reward carries their email hash.
    rewarded = [reward.ugc_post_id for reward in rewards]
    posts = {post.id: post for post in _customer_rows(tenant, UgcPost, ref)}
    posts.update(
        {
            post.id: post
            for post in (tenant.all(UgcPost, UgcPost.id.in_(rewarded)) if rewarded else [])
        }
    )
    for post in posts.values():
        _clear_customer_columns(post)
        post.author_handle = ""
        post.post_url = None
        post.caption = ""
        post.alt_text = ""
        post.media = []
        post.moderation_status = "hidden"
        post.moderation_reason = "customer data erased on request"
        summary.ugc_posts += 1
    for reward in rewards:
        _clear_customer_columns(reward)
        reward.email_encrypted = None  # the address kept (encrypted) until its email is sent
        summary.rewards += 1
    if ref.email_hash:
        for message in tenant.all(OutboundEmail, OutboundEmail.to_hash == ref.email_hash):
            message.to_address = ""
            message.to_hash = ""
            if message.status in ("queued", "sending"):
                message.status = "failed"
                message.last_error = "customer data erased on request"
    summary.webhook_events = redact_event_bodies(
        session, shop_id, ref, {order.platform_order_id for order in orders}
    )
    summary.scrubbed_values = secrets_seen
    return summary


def redact_shop(
    session: Session, shop_id: int, *, keep_event_id: int | None, export_root: Path | None
) -> bool:
    """Delete the shop and everything it owns (rows cascade). Returns False if it was gone."""
    shop = session.get(Shop, shop_id)
    if shop is None:
        return False
    domain, platform = shop.domain, shop.platform
    if keep_event_id is not None:
        # The shop/redact event itself is the audit record that the erasure happened.
        event = session.get(WebhookEvent, keep_event_id)
        if event is not None:
            event.shop_id = None
            session.flush()
    session.execute(
        delete(WebhookEvent).where(
            WebhookEvent.platform == platform,
            WebhookEvent.shop_domain == domain,
            WebhookEvent.id != (keep_event_id or 0),
        )
    )
    session.execute(delete(OAuthState).where(OAuthState.domain == domain))
    session.execute(delete(Shop).where(Shop.id == shop_id))
    session.expunge(shop)
    if export_root is not None:
        shutil.rmtree(export_root / str(int(shop_id)), ignore_errors=True)
    logger.info("shop %s (%s) erased on request", shop_id, domain)
    return True


def _order_export(order: Order) -> dict[str, Any]:
    return {
        "platform_order_id": order.platform_order_id,
        "order_number": order.order_number,
        "placed_at": order.placed_at.isoformat(),
        "status": order.status,
        "currency": order.currency,
        "total_minor": order.total_minor,
        "presentment_currency": order.presentment_currency,
        "presentment_total_minor": order.presentment_total_minor,
        "discount_codes": list(order.discount_codes),
        "click_ids": list(_split_clicks(order.click_uid)),
        "landing_site": order.landing_site,
        "referring_site": order.referring_site,
        "customer_ref": order.customer_ref,
        "line_items": order.line_items,
    }


def _split_clicks(value: str | None) -> tuple[str, ...]:
    return tuple(part for part in CLICK_SEPARATORS.split(value or "") if part)


def _click_uids(orders: Iterable[Order]) -> list[str]:
    return sorted({uid for order in orders for uid in _split_clicks(order.click_uid)})


def _customer_rows(tenant: Tenant, model: Any, ref: CustomerRef) -> list[Any]:
    conditions: list[ColumnElement[bool]] = []
    for name in CUSTOMER_ID_COLUMNS:
        if ref.customer_id and hasattr(model, name):
            conditions.append(getattr(model, name) == ref.customer_id)
    for name in CUSTOMER_EMAIL_COLUMNS:
        if ref.email_hash and hasattr(model, name):
            conditions.append(getattr(model, name) == ref.email_hash)
    return tenant.all(model, or_(*conditions)) if conditions else tenant.all(model, false())


def _clear_customer_columns(row: Any) -> None:
    for name in (*CUSTOMER_ID_COLUMNS, *CUSTOMER_EMAIL_COLUMNS):
        if hasattr(row, name):
            setattr(row, name, None)


def _scrub(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, dict):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, str) and value in secrets:
        return REDACTED
    return value
