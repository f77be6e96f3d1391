"""The WooCommerce API keys a shop has been granted, and which of them are still left in the store.

Each wc-auth connect grants a new key; `Shop.settings["woocommerce_api_keys"]` lists every key
Tastemaker received and has not seen revoked ({key_id, truncated_key}: neither is a secret).
After a reconnect the older ones, and on disconnect all of them, are revoked through the
companion plugin (`connectors.woocommerce.api_keys`); what it could not revoke stays listed, and
the settings page asks the merchant to delete those keys in WooCommerce themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.woocommerce.api_keys import StoreKey, load_keys, remember
from plugin.crypto import CredentialBox
from plugin.models import Shop

KEYS_SETTING = "woocommerce_api_keys"
# Why the last revoke attempt failed, shown with the keys left behind.
REVOKE_PROBLEM_SETTING = "woocommerce_api_keys_problem"


def held_keys(shop: Shop) -> list[StoreKey]:
    return load_keys((shop.settings or {}).get(KEYS_SETTING) or [])


def current_key(credentials: Mapping[str, Any]) -> StoreKey | None:
    consumer_key = str(credentials.get("consumer_key") or "")
    return StoreKey.from_grant(credentials.get("key_id"), consumer_key)


def record_grant(
    shop: Shop, previous_credentials: Mapping[str, Any], granted: Mapping[str, Any]
) -> None:
    """Add the key just granted, and the one it replaces (shops connected before this list
    existed only knew their current key)."""
    keys = remember(held_keys(shop), current_key(previous_credentials), current_key(granted))
    shop.settings = {**(shop.settings or {}), KEYS_SETTING: [key.as_dict() for key in keys]}


def remember_current(shop: Shop, credentials: Mapping[str, Any]) -> list[StoreKey]:
    """Every key held, the one in use included (a shop connected before the list existed)."""
    keys = remember(held_keys(shop), current_key(credentials))
    shop.settings = {**(shop.settings or {}), KEYS_SETTING: [key.as_dict() for key in keys]}
    return keys


def unused_keys(shop: Shop, credentials: Mapping[str, Any]) -> list[StoreKey]:
    """Keys to revoke: all but the one in use; all of them once the shop is disconnected."""
    in_use = current_key(credentials) if shop.is_active else None
    return [key for key in held_keys(shop) if in_use is None or key.key_id != in_use.key_id]


def keys_left_in_store(shop: Shop, box: CredentialBox) -> tuple[list[StoreKey], str]:
    """What the merchant should delete by hand, and why we could not (for the settings page).

    Nothing while no revoke attempt failed: a reconnect's revoke job may still be on its way.
    """
    problem = str((shop.settings or {}).get(REVOKE_PROBLEM_SETTING) or "")
    if shop.platform != "woocommerce" or not problem:
        return [], ""
    return unused_keys(shop, box.open(shop.credentials_encrypted)), problem


def record_revocation(session: Session, shop_id: int, revoked: Sequence[int], problem: str) -> None:
    """Forget the revoked keys and remember why the others are left (or that none are)."""
    shop = session.scalars(select(Shop).where(Shop.id == shop_id).with_for_update()).first()
    if shop is None:
        return
    gone = set(revoked)
    left = [key.as_dict() for key in held_keys(shop) if key.key_id not in gone]
    settings = {**(shop.settings or {}), KEYS_SETTING: left}
    if problem:
        settings[REVOKE_PROBLEM_SETTING] = problem
    else:
        settings.pop(REVOKE_PROBLEM_SETTING, None)
    shop.settings = settings
