"""Shopify jobs after an install: subscribe the shop's webhooks, publish the theme's app data.

Each job takes a shop id, returns at once when the shop is gone, uninstalled or not on Shopify
(an uninstalled app's token is dead, so calling Shopify would only fail), and is safe to rerun:
registration lists the existing subscriptions and creates only the missing ones.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import update

from connectors.base import CredentialsRevoked, RetryableConnectorError
from connectors.shopify import ShopifyConnector
from connectors.shopify.app_toml import APP_CONFIG_TOPICS
from plugin.db import get_session
from plugin.extensions import connectors, credentials, manifest
from plugin.models import Shop
from plugin.services.credentials import fresh_shop_context
from workers.registry import RetryableJobError, job

logger = logging.getLogger(__name__)


def webhook_topics() -> list[str]:
    """Manifest topics subscribed per shop through the API: not the compliance ones (Shopify
    takes those from app configuration only) and not the ones shopify.app.toml already
    subscribes for every shop (app/uninstalled would otherwise arrive twice)."""
    return [
        sub.topic
        for sub in manifest().subscriptions("shopify")
        if not sub.compliance and sub.topic not in APP_CONFIG_TOPICS
    ]


def webhook_callback_url() -> str:
    settings = current_app.config["TASTEMAKER"]
    return str(settings.public_url).rstrip("/") + str(manifest().platform("shopify")["webhook_url"])


def _connector() -> ShopifyConnector:
    connector = connectors().get("shopify")
    if not isinstance(connector, ShopifyConnector):
        raise TypeError(f"the shopify platform is served by {type(connector).__name__}")
    return connector


@job("periodic", timeout=120)
def register_shopify_webhooks(shop_id: int) -> list[str]:
    session = get_session()
    shop = session.get(Shop, shop_id)
    if shop is None or shop.platform != "shopify" or not shop.is_active:
        session.rollback()
        return []
    connector = _connector()
    try:
        context = fresh_shop_context(session, credentials(), connector, shop)
        session.rollback()  # no transaction stays open while Shopify is called
        created = connector.register_webhooks(context, webhook_callback_url(), webhook_topics())
    except RetryableConnectorError as exc:
        session.rollback()
        raise RetryableJobError(str(exc), retry_after=exc.retry_after) from exc
    except CredentialsRevoked as exc:
        session.rollback()
        logger.warning("shop %s: webhooks not registered, credentials refused: %s", shop_id, exc)
        # Only an active shop turns into needs_reconnect; an uninstall in between stays one.
        session.execute(
            update(Shop)
            .where(Shop.id == shop_id, Shop.status == "active")
            .values(status="needs_reconnect")
        )
        session.commit()
        return []
    logger.info("shop %s: webhook subscriptions created for %s", shop_id, created or "nothing new")
    return created


@job("periodic", timeout=60)
def publish_shopify_app_data(shop_id: int) -> bool:
    """Tell the theme blocks who we are: app.metafields.tastemaker.public_key and .api_url."""
    session = get_session()
    shop = session.get(Shop, shop_id)
    if shop is None or shop.platform != "shopify" or not shop.is_active:
        session.rollback()
        return False
    connector = _connector()
    values = {
        "public_key": shop.public_key,
        "api_url": current_app.config["TASTEMAKER"].public_url.rstrip("/"),
    }
    try:
        context = fresh_shop_context(session, credentials(), connector, shop)
        session.rollback()
        connector.publish_app_data(context, values)
    except RetryableConnectorError as exc:
        session.rollback()
        raise RetryableJobError(str(exc), retry_after=exc.retry_after) from exc
    except CredentialsRevoked as exc:
        session.rollback()
        logger.warning("shop %s: app data not published, credentials refused: %s", shop_id, exc)
        return False
    return True


@job("periodic", timeout=120, retry_intervals=())
def ensure_all_shopify_webhooks() -> int:
    """Re-subscribe every active Shopify shop: Shopify deletes API-created subscriptions after
    repeated failed deliveries, and registration only creates the missing ones."""
    from sqlalchemy import select

    from workers.runtime import enqueue

    session = get_session()
    shop_ids = list(
        session.scalars(select(Shop.id).where(Shop.platform == "shopify", Shop.status == "active"))
    )
    session.rollback()
    for shop_id in shop_ids:
        enqueue(register_shopify_webhooks, shop_id)
    return len(shop_ids)
