"""The WooCommerce REST API keys Tastemaker holds in a store, and revoking those it no longer uses.

Every wc-auth connect creates a new read/write key (WooCommerce names it
`<app name> - API (<date>)`), and WooCommerce's REST API cannot delete keys. The companion
plugin can: its route `POST /wp-json/tastemaker/v1/api-keys/revoke` deletes the keys whose ids
we name, but only keys wc-auth created for Tastemaker (their description says so), never another
app's. The request is signed with the shop's sign-in secret (the one the plugin already holds for
wp-admin sign-in links) and names the shop's public key, so it cannot revoke another shop's keys,
and it expires within minutes. Replaying it is harmless: it deletes the same ids again.

Without the plugin (or with it unconfigured) nothing can revoke a key from outside: the keys are
left for the merchant to delete in WooCommerce > Settings > Advanced > REST API, where a key is
shown by the last 7 characters of its consumer key (`truncated_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

REVOKE_PATH = "/wp-json/tastemaker/v1/api-keys/revoke"
SIGNATURE_VERSION = "tastemaker-revoke-keys-v1"
LIFETIME_SECONDS = 300
TIMEOUT_SECONDS = 30
APP_NAME = "Tastemaker"
# wc-auth's description of the keys it creates: sprintf('%s - API (%s)', app_name, gmdate(...)).
DESCRIPTION_PREFIX = f"{APP_NAME} - API ("


@dataclass(frozen=True)
class StoreKey:
    """A key Tastemaker received from the store: its id and what WooCommerce shows of it."""

    key_id: int
    truncated_key: str  # the consumer key's last 7 characters, as WooCommerce lists it

    @classmethod
    def from_grant(cls, key_id: Any, consumer_key: str) -> StoreKey | None:
        try:
            number = int(key_id)
        except (TypeError, ValueError):
            return None
        return cls(number, consumer_key[-7:]) if number > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "truncated_key": self.truncated_key}


def load_keys(rows: Iterable[Any]) -> list[StoreKey]:
    """StoreKeys from their stored dicts, skipping anything malformed."""
    keys: list[StoreKey] = []
    for row in rows:
        if isinstance(row, Mapping):
            key = StoreKey.from_grant(row.get("key_id"), "")
            if key is not None:
                keys.append(StoreKey(key.key_id, str(row.get("truncated_key") or "")[-7:]))
    return keys


def remember(held: Sequence[StoreKey], *new: StoreKey | None) -> list[StoreKey]:
    """`held` plus `new`, each key id once, in the order received."""
    by_id = {key.key_id: key for key in held}
    for key in new:
        if key is not None:
            by_id.setdefault(key.key_id, key)
    return list(by_id.values())


def signed_request(
    *,
    public_key: str,
    login_secret: str,
    key_ids: Sequence[int],
    now: int | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """The companion plugin's revoke request body, signed with the shop's sign-in secret."""
    expires = int(time.time() if now is None else now) + LIFETIME_SECONDS
    body = {
        "shop": public_key,
        "key_ids": sorted({int(key_id) for key_id in key_ids}),
        "expires": expires,
        "nonce": nonce or secrets.token_hex(16),
    }
    body["signature"] = signature(login_secret, body)
    return body


def signature(login_secret: str, body: Mapping[str, Any]) -> str:
    ids = ",".join(str(int(key_id)) for key_id in body["key_ids"])
    message = f"{SIGNATURE_VERSION}|{body['shop']}|{ids}|{int(body['expires'])}|{body['nonce']}"
    return hmac.new(login_secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class RevokeRefused(Exception):
    """The store did not revoke the keys; the message says why (for the log and the merchant)."""


def revoke(
    base_url: str,
    *,
    public_key: str,
    login_secret: str,
    key_ids: Sequence[int],
    session: requests.Session | None = None,
) -> list[int]:
    """Ask the companion plugin to delete `key_ids`; returns the ids it no longer has.

    Raises RevokeRefused when the plugin is missing, unconfigured or refuses the request, or the
    store cannot be reached: the caller keeps those keys listed for the merchant to delete.
    """
    if not key_ids:
        return []
    if not login_secret:
        raise RevokeRefused("no sign-in secret for the companion plugin")
    body = signed_request(public_key=public_key, login_secret=login_secret, key_ids=key_ids)
    http = session or requests
    try:
        response = http.post(
            base_url.rstrip("/") + REVOKE_PATH,
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise RevokeRefused(f"store unreachable: {exc}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code == 404 and _code(answer) == "rest_no_route":
        raise RevokeRefused("the Tastemaker plugin is not installed or not active in the store")
    if response.status_code != 200 or not isinstance(answer, dict):
        status = response.status_code
        raise RevokeRefused(f"the Tastemaker plugin answered {status} {_code(answer)}")
    gone = _ids(answer.get("revoked")) | _ids(answer.get("missing"))
    return sorted(gone & set(body["key_ids"]))


def _ids(values: Any) -> set[int]:
    if not isinstance(values, list):
        return set()
    return {value for value in values if isinstance(value, int) and not isinstance(value, bool)}


def _code(answer: Any) -> str:
    return str(answer.get("code") or "") if isinstance(answer, dict) else ""
