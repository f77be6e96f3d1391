"""WooCommerce upkeep: our webhooks on each store (register, check, re-activate), revoking the API
keys we no longer use (`plugin.services.woocommerce_keys`), and disconnect.

Each job loads the shop, ends its read before calling the store, and records results in a short
transaction of its own. A store that refuses our keys (401 even with query-string auth) marks
the shop `needs_reconnect`; jobs only act for active shops, so that stops them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import CredentialsRevoked, RetryableConnectorError, ShopContext
from connectors.woocommerce import WooCommerceConnector, api_keys, subscriptions
from plugin.db import get_session
from plugin.extensions import connectors, credentials, manifest
from plugin.models import Shop
from plugin.services import woocommerce_keys
from plugin.services.shops import mark_needs_reconnect, mark_uninstalled, shop_context
from workers.registry import RetryableJobError, job
from workers.runtime import enqueue

logger = logging.getLogger(__name__)

PLATFORM = "woocommerce"
# Shop.settings key holding {topic: webhook id} of the webhooks we created on the store.
WEBHOOK_IDS_KEY = "woocommerce_webhook_ids"
T = TypeVar("T")


@job("webhooks", timeout=180)
def register_woocommerce_webhooks(shop_id: int) -> dict[str, int] | None:
    session = get_session()
    context = _load(session, shop_id)
    if context is None:
        return None
    ids = _call_store(
        session,
        shop_id,
        lambda: subscriptions.register_webhooks(_connector(), context, delivery_url()),
    )
    if ids is not None:
        _record_ids(session, shop_id, ids)
        logger.info("shop %s: woocommerce webhooks registered %s", shop_id, ids)
    return ids


@job("periodic", timeout=120, retry_intervals=())
def check_all_webhooks() -> int:
    session = get_session()
    shop_ids = list(
        session.scalars(
            select(Shop.id)
            .where(Shop.platform == PLATFORM, Shop.status == "active")
            .order_by(Shop.id)
        )
    )
    session.rollback()  # end the read before sending jobs
    sent = 0
    for shop_id in shop_ids:
        if not enqueue(check_woocommerce_webhooks, shop_id):
            break  # queue down: the next run catches up
        sent += 1
    return sent


@job("periodic", timeout=180)
def check_woocommerce_webhooks(shop_id: int) -> subscriptions.WebhookCheck | None:
    session = get_session()
    shop = session.get(Shop, shop_id)
    recorded = dict((shop.settings or {}).get(WEBHOOK_IDS_KEY) or {}) if shop else {}
    context = _load(session, shop_id)
    if context is None:
        return None
    result = _call_store(
        session,
        shop_id,
        lambda: subscriptions.check_webhooks(_connector(), context, delivery_url(), recorded),
    )
    if result is None:
        return None
    if result.ids != recorded:
        _record_ids(session, shop_id, result.ids)
    shop = session.get(Shop, shop_id)
    if shop is not None and woocommerce_keys.REVOKE_PROBLEM_SETTING in (shop.settings or {}):
        # Keys left behind earlier (plugin missing, store down): try again, e.g. once the
        # merchant has set the plugin up.
        enqueue(revoke_unused_woocommerce_keys, shop_id)
    session.rollback()
    for topic, problem in result.problems.items():
        logger.error("shop %s: woocommerce webhook %s cannot be fixed: %s", shop_id, topic, problem)
    if result.changed:
        # Deliveries were lost while the webhooks were off: fetch what changed meanwhile now.
        from workers.jobs.periodic import reconcile_shop

        logger.warning(
            "shop %s: webhooks re-activated %s, re-created %s; reconciling",
            shop_id,
            result.reactivated,
            result.recreated,
        )
        enqueue(reconcile_shop, shop_id)
    return result


@job("webhooks", timeout=180, retry_intervals=())
def disconnect_woocommerce(shop_id: int) -> None:
    """Delete our webhooks (best effort), revoke every API key we hold in the store through the
    companion plugin (best effort), then forget the keys whatever the store said.

    Webhooks left behind (store down, keys already revoked) are harmless: without a secret their
    deliveries are refused, WooCommerce disables them, and a reconnect re-aims them. Keys left
    behind stay listed, and the settings page asks the merchant to delete them.
    """
    session = get_session()
    shop = session.get(Shop, shop_id)
    if shop is None or shop.platform != PLATFORM or shop.status == "uninstalled":
        session.rollback()
        return
    recorded = dict((shop.settings or {}).get(WEBHOOK_IDS_KEY) or {})
    context = shop_context(session, credentials(), shop)
    # Every key, the one in use included: after this nothing of ours should open the store.
    every_key = woocommerce_keys.remember_current(shop, context.credentials)
    revoke = _revoke_request(shop, context.credentials, [key.key_id for key in every_key])
    session.commit()
    try:
        subscriptions.delete_webhooks(_connector(), context, recorded)
    except (CredentialsRevoked, RetryableConnectorError) as exc:
        logger.warning("shop %s: webhooks not deleted on disconnect: %s", shop_id, exc)
    _revoke_keys(session, shop_id, revoke)
    shop = session.get(Shop, shop_id)
    if shop is None:
        return
    mark_uninstalled(session, shop)
    shop.settings = {k: v for k, v in (shop.settings or {}).items() if k != WEBHOOK_IDS_KEY}
    session.commit()
    logger.info("shop %s: woocommerce store disconnected", shop_id)


@job("webhooks", timeout=120, retry_intervals=())
def revoke_unused_woocommerce_keys(shop_id: int) -> list[int] | None:
    """After a (re)connect: revoke the keys earlier connects granted, keeping the one in use."""
    session = get_session()
    shop = session.get(Shop, shop_id)
    if shop is None or shop.platform != PLATFORM or not shop.is_active:
        session.rollback()
        return None
    secrets = credentials().open(shop.credentials_encrypted)
    unused = [key.key_id for key in woocommerce_keys.unused_keys(shop, secrets)]
    revoke = _revoke_request(shop, secrets, unused)
    session.commit()  # no transaction stays open while we call the store
    return _revoke_keys(session, shop_id, revoke)


@dataclass(frozen=True)
class _RevokeRequest:
    base_url: str
    public_key: str
    login_secret: str
    key_ids: list[int]


def _revoke_request(shop: Shop, secrets: Mapping[str, Any], key_ids: list[int]) -> _RevokeRequest:
    return _RevokeRequest(
        base_url=_connector().base_url(shop.domain),
        public_key=shop.public_key,
        login_secret=str(secrets.get("login_secret") or ""),
        key_ids=key_ids,
    )


def _revoke_keys(session: Session, shop_id: int, request: _RevokeRequest) -> list[int]:
    if not request.key_ids:
        return []
    try:
        revoked = api_keys.revoke(
            request.base_url,
            public_key=request.public_key,
            login_secret=request.login_secret,
            key_ids=request.key_ids,
        )
    except api_keys.RevokeRefused as exc:
        logger.warning(
            "shop %s: woocommerce keys %s not revoked: %s", shop_id, request.key_ids, exc
        )
        revoked, problem = [], str(exc)
    else:
        left = sorted(set(request.key_ids) - set(revoked))
        problem = f"the store kept keys {left}" if left else ""
        logger.info("shop %s: woocommerce keys revoked %s, left %s", shop_id, revoked, left)
    woocommerce_keys.record_revocation(session, shop_id, revoked, problem)
    session.commit()
    return revoked


def delivery_url() -> str:
    public_url = str(current_app.config["TASTEMAKER"].public_url).rstrip("/")
    return public_url + str(manifest().platform(PLATFORM)["webhook_url"])


def _load(session: Session, shop_id: int) -> ShopContext | None:
    shop = session.get(Shop, shop_id)
    if shop is None or shop.platform != PLATFORM or not shop.is_active:
        session.rollback()
        return None
    context = shop_context(session, credentials(), shop)
    session.commit()  # no transaction stays open while we call the store
    return context


def _call_store(session: Session, shop_id: int, call: Callable[[], T]) -> T | None:
    try:
        return call()
    except CredentialsRevoked as exc:
        logger.warning("shop %s: store refused our keys, needs reconnecting: %s", shop_id, exc)
        mark_needs_reconnect(session, shop_id)
        session.commit()
        return None
    except RetryableConnectorError as exc:
        raise RetryableJobError(f"shop {shop_id}: {exc}", retry_after=exc.retry_after) from exc


def _record_ids(session: Session, shop_id: int, ids: dict[str, int]) -> None:
    shop = session.scalars(select(Shop).where(Shop.id == shop_id).with_for_update()).first()
    if shop is None:
        session.rollback()
        return
    # Reassign, don't mutate: the JSON column tracks assignment only.
    shop.settings = {**(shop.settings or {}), WEBHOOK_IDS_KEY: dict(ids)}
    session.commit()


def _connector() -> WooCommerceConnector:
    return cast(WooCommerceConnector, connectors().get(PLATFORM))
