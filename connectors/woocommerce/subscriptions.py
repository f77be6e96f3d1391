"""Our webhooks on a store: create, check (re-activate what WooCommerce disabled), delete.

WooCommerce never retries a delivery and disables a webhook after a run of failures, silently.
So the ids we create are recorded, checked periodically, and re-activated; what was missed
meanwhile comes back through reconciliation.

Re-activating means re-creating: WooCommerce disables a webhook once `failure_count > 5` and
stops counting, and the REST API neither shows nor resets that count (only a successful delivery
does), so `PUT {status: active}` would leave it one failure away from disabled again. A new
webhook starts at 0; the old one is deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ShopContext
from connectors.woocommerce.client import StoreApiError, StoreClient
from connectors.woocommerce.connector import WooCommerceConnector
from connectors.woocommerce.webhooks import TOPICS

logger = logging.getLogger(__name__)

WEBHOOK_NAME_PREFIX = "Tastemaker"


@dataclass(frozen=True)
class StoreInfo:
    currency: str
    home_url: str
    wc_version: str
    # True when the store only accepted the keys in the query string (Authorization stripped).
    query_string_auth: bool


@dataclass(frozen=True)
class WebhookCheck:
    ids: dict[str, int]
    reactivated: tuple[str, ...] = ()
    recreated: tuple[str, ...] = ()
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.reactivated or self.recreated)


def verify_keys(
    connector: WooCommerceConnector, domain: str, consumer_key: str, consumer_secret: str
) -> StoreInfo:
    """One authenticated call proving the keys work; raises CredentialsRevoked when they don't."""
    client = StoreClient(connector.base_url(domain), consumer_key, consumer_secret)
    data = client.get("system_status").data or {}
    environment = data.get("environment") or {}
    settings = data.get("settings") or {}
    return StoreInfo(
        currency=str(settings.get("currency") or "USD").upper(),
        home_url=str(environment.get("home_url") or ""),
        wc_version=str(environment.get("version") or ""),
        query_string_auth=client.query_string_auth,
    )


def register_webhooks(
    connector: WooCommerceConnector, shop: ShopContext, delivery_url: str
) -> dict[str, int]:
    """Make sure one active webhook per topic points at us with this shop's current secret.

    Safe to repeat: webhooks already aimed at `delivery_url` are updated in place (a reconnect
    brings a new secret), missing topics are created. Returns topic -> webhook id.
    """
    secret = str(shop.credentials["webhook_secret"])
    client = connector.client(shop)
    try:
        existing = {
            str(hook["topic"]): int(hook["id"])
            for hook in _list_webhooks(client)
            if hook.get("delivery_url") == delivery_url
        }
        ids: dict[str, int] = {}
        for topic in TOPICS:
            body = {"secret": secret, "status": "active", "delivery_url": delivery_url}
            if topic in existing:
                ids[topic] = int(client.put(f"webhooks/{existing[topic]}", body).data["id"])
            else:
                ids[topic] = _create(client, topic, body)
        return ids
    finally:
        connector.remember_auth_mode(shop, client)


def check_webhooks(
    connector: WooCommerceConnector,
    shop: ShopContext,
    delivery_url: str,
    recorded: Mapping[str, int],
) -> WebhookCheck:
    """Re-activate disabled or paused webhooks, re-create deleted ones, re-aim moved ones."""
    secret = str(shop.credentials["webhook_secret"])
    client = connector.client(shop)
    ids: dict[str, int] = {}
    reactivated: list[str] = []
    recreated: list[str] = []
    problems: dict[str, str] = {}
    try:
        for topic in TOPICS:
            body = {"secret": secret, "status": "active", "delivery_url": delivery_url}
            try:
                hook_id = recorded.get(topic)
                hook = _get_webhook(client, hook_id) if hook_id else None
                if hook is None:
                    ids[topic] = _create(client, topic, body)
                    recreated.append(topic)
                    continue
                ids[topic] = int(hook["id"])
                if hook.get("status") != "active":
                    logger.warning(
                        "webhook %s (%s) on %s was %s: re-creating it",
                        hook["id"],
                        topic,
                        shop.domain,
                        hook.get("status"),
                    )
                    ids[topic] = _create(client, topic, body)
                    _delete(client, int(hook["id"]))
                    reactivated.append(topic)
                elif hook.get("delivery_url") != delivery_url:
                    client.put(f"webhooks/{hook['id']}", body)
                    reactivated.append(topic)
            except StoreApiError as exc:
                # One refused topic must not stop the others from being checked.
                problems[topic] = str(exc)
                if hook_id:
                    ids[topic] = int(hook_id)
    finally:
        connector.remember_auth_mode(shop, client)
    return WebhookCheck(ids, tuple(reactivated), tuple(recreated), problems)


def delete_webhooks(
    connector: WooCommerceConnector, shop: ShopContext, recorded: Mapping[str, int]
) -> None:
    client = connector.client(shop)
    try:
        for hook_id in recorded.values():
            _delete(client, int(hook_id))
    finally:
        connector.remember_auth_mode(shop, client)


def _delete(client: StoreClient, hook_id: int) -> None:
    try:
        # Webhooks cannot be trashed: without force=true WooCommerce answers 501.
        client.delete(f"webhooks/{hook_id}", {"force": "true"})
    except StoreApiError as exc:
        if exc.status != 404:
            raise


def _create(client: StoreClient, topic: str, body: Mapping[str, str]) -> int:
    created = client.post(
        "webhooks", {"name": f"{WEBHOOK_NAME_PREFIX} {topic}", "topic": topic, **body}
    )
    return int(created.data["id"])


def _get_webhook(client: StoreClient, hook_id: int) -> dict[str, Any] | None:
    try:
        data = client.get(f"webhooks/{int(hook_id)}").data
    except StoreApiError as exc:
        if exc.status == 404:
            return None
        raise
    return data if isinstance(data, dict) else None


def _list_webhooks(client: StoreClient) -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = []
    page = 1
    while True:
        response = client.get("webhooks", {"per_page": 100, "page": page})
        hooks.extend(response.data or [])
        if page >= response.total_pages:
            return hooks
        page += 1
