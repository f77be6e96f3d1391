"""Shapes and rules of the simulated store's coupons, webhooks and order listings."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from connectors.woocommerce.simulator.orders import money
from connectors.woocommerce.simulator.rest import RestError, invalid_param, missing_params

TOPICS = tuple(
    f"{resource}.{event}"
    for resource in ("coupon", "customer", "order", "product")
    for event in ("created", "updated", "deleted", "restored")
)
COUPON_TYPES = ("percent", "fixed_cart", "fixed_product")
WEBHOOK_STATUSES = ("active", "paused", "disabled")
WEBHOOK_FIELDS = ("name", "status", "topic", "secret", "delivery_url")


def new_coupon(
    body: Mapping[str, Any], coupon_id: int, now: str, site_tz: tzinfo = UTC
) -> dict[str, Any]:
    code = coupon_code(body)
    discount_type = str(body.get("discount_type", "fixed_cart"))
    if discount_type not in COUPON_TYPES:
        raise invalid_param(
            "discount_type", f"discount_type is not one of {', '.join(COUPON_TYPES)}."
        )
    return {
        "id": coupon_id,
        "code": code,
        "amount": money(Decimal(str(body.get("amount") or "0"))),
        "date_created_gmt": now,
        "date_modified_gmt": now,
        "discount_type": discount_type,
        "description": str(body.get("description", "")),
        # Only `date_expires` is written: the controller has no setter for date_expires_gmt.
        "date_expires_gmt": _expiry_gmt(body.get("date_expires"), site_tz),
        "usage_count": 0,
        "individual_use": bool(body.get("individual_use", False)),
        "usage_limit": body.get("usage_limit"),
        "usage_limit_per_user": body.get("usage_limit_per_user"),
        "free_shipping": bool(body.get("free_shipping", False)),
        "email_restrictions": [str(e).strip() for e in body.get("email_restrictions") or []],
        "meta_data": list(body.get("meta_data") or []),
    }


# What a coupon update may change; anything else (date_expires_gmt, usage_count, ...) is ignored,
# as WC_REST_Coupons_Controller only calls the setters that exist.
WRITABLE_COUPON_FIELDS = (
    "amount",
    "discount_type",
    "description",
    "individual_use",
    "usage_limit",
    "usage_limit_per_user",
    "free_shipping",
    "meta_data",
)


def update_coupon(coupon: dict[str, Any], body: Mapping[str, Any], site_tz: tzinfo) -> None:
    coupon.update({k: body[k] for k in WRITABLE_COUPON_FIELDS if k in body})
    # `date_expires: null` does not clear an expiry on a real store: only a date replaces it.
    if body.get("date_expires"):
        coupon["date_expires_gmt"] = _expiry_gmt(body["date_expires"], site_tz)


def _expiry_gmt(value: object, site_tz: tzinfo) -> str | None:
    """A written `date_expires` as stored: an explicit offset is honoured, a bare local time is
    read in the site's timezone."""
    if not value:
        return None
    moment = parse_stamp(str(value).replace("Z", "+00:00"), "date_expires", local=site_tz)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def check_coupon_applies(coupon: Mapping[str, Any], now: datetime) -> None:
    """WC_Discounts::validate_coupon_expiry_date and usage limits, as checkout applies them."""
    expires = coupon.get("date_expires_gmt")
    if expires and parse_stamp(str(expires), "date") < now:
        raise CouponRefused(f"coupon {coupon['code']!r}: This coupon has expired.")
    if coupon.get("status", "publish") != "publish":
        raise CouponRefused(f"coupon {coupon['code']!r}: Coupon is not valid.")
    limit = coupon.get("usage_limit")
    if limit is not None and int(coupon.get("usage_count", 0)) >= int(limit):
        raise CouponRefused(f"coupon {coupon['code']!r}: Coupon usage limit has been reached.")


class CouponRefused(ValueError):
    """What the cart says when a code does not apply."""


def coupon_code(body: Mapping[str, Any]) -> str:
    # wc_format_coupon_code: WooCommerce keeps codes lowercased.
    code = str(body.get("code") or "").strip().lower()
    if not code:
        raise missing_params("code")
    return code


def duplicate_code() -> RestError:
    return RestError(
        400, "woocommerce_rest_coupon_code_already_exists", "The coupon code already exists"
    )


def coupon_out(coupon: Mapping[str, Any], home_url: str, site_tz: tzinfo = UTC) -> dict[str, Any]:
    out = dict(coupon)
    out.setdefault("status", "publish")
    out["date_created"] = coupon["date_created_gmt"]
    out["date_modified"] = coupon["date_modified_gmt"]
    expires = coupon["date_expires_gmt"]
    out["date_expires"] = (
        parse_stamp(expires, "date").astimezone(site_tz).strftime("%Y-%m-%dT%H:%M:%S")
        if expires
        else None
    )
    out["_links"] = links(home_url, "coupons", coupon["id"])
    return out


def new_webhook(body: Mapping[str, Any], webhook_id: int, now: str) -> dict[str, Any]:
    missing = [name for name in ("topic", "delivery_url") if not body.get(name)]
    if missing:
        raise missing_params(*missing)
    check_webhook_fields(body)
    return {
        "id": webhook_id,
        "name": str(body.get("name") or "Webhook"),
        "status": str(body.get("status") or "active"),
        "topic": str(body["topic"]),
        "delivery_url": str(body["delivery_url"]),
        # WooCommerce derives a secret from the user when none is given.
        "secret": str(body.get("secret") or secrets.token_hex(16)),
        "failure_count": 0,
        "pending_delivery": True,
        "date_created_gmt": now,
        "date_modified_gmt": now,
    }


def check_webhook_fields(body: Mapping[str, Any]) -> None:
    topic = body.get("topic")
    if topic is not None and topic not in TOPICS and not str(topic).startswith("action."):
        raise RestError(
            400,
            "woocommerce_rest_webhook_invalid_topic",
            "Webhook topic is required and must be valid.",
        )
    if "status" in body and body["status"] not in WEBHOOK_STATUSES:
        raise invalid_param("status", f"status is not one of {', '.join(WEBHOOK_STATUSES)}.")


def webhook_out(webhook: Mapping[str, Any], home_url: str) -> dict[str, Any]:
    resource, event = str(webhook["topic"]).split(".", 1)
    hidden = ("secret", "failure_count", "pending_delivery")
    out = {k: v for k, v in webhook.items() if k not in hidden}
    out.update(
        resource=resource,
        event=event,
        hooks=[],
        date_created=webhook["date_created_gmt"],
        date_modified=webhook["date_modified_gmt"],
        _links=links(home_url, "webhooks", webhook["id"]),
    )
    return out


def filter_orders(
    orders: Iterable[dict[str, Any]], query: Mapping[str, str]
) -> list[dict[str, Any]]:
    """GET orders: `modified_after` (GMT with dates_are_gmt; the site runs on UTC), status,
    orderby/order."""
    rows = list(orders)
    after = query.get("modified_after")
    if after:
        bound = parse_stamp(after, "modified_after")
        rows = [o for o in rows if parse_stamp(o["date_modified_gmt"], "date") > bound]
    status = query.get("status", "any")
    if status == "any":
        rows = [o for o in rows if o["status"] != "trash"]
    else:
        rows = [o for o in rows if o["status"] in status.split(",")]
    key = {"id": "id", "date": "date_created_gmt", "modified": "date_modified_gmt"}.get(
        query.get("orderby", "date")
    )
    if key is None:
        raise invalid_param(
            "orderby", "orderby is not one of date, id, include, title, slug, modified."
        )
    rows.sort(key=lambda o: (o[key], o["id"]), reverse=query.get("order", "desc") == "desc")
    return [dict(o) for o in rows]


def links(home_url: str, resource: str, item_id: int) -> dict[str, Any]:
    base = f"{home_url}wp-json/wc/v3/{resource}"
    return {"self": [{"href": f"{base}/{item_id}"}], "collection": [{"href": base}]}


def parse_stamp(value: str, name: str, *, local: tzinfo = UTC) -> datetime:
    """A date-time in UTC; one without an offset is read in `local` (UTC for *_gmt fields)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid_param(name, f"{name} is not a valid date.") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=local)).astimezone(UTC)
