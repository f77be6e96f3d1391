"""The companion plugin inside the simulated store: its API-key revoke route.

The same checks in the same order as `Tastemaker_Api_Keys::handle` in
widgets/woocommerce/tastemaker (tests run both on the same requests): configured, well-formed
ids, this shop, not expired, signed with this shop's sign-in secret; then only keys wc-auth made
for Tastemaker are deleted. A store without the plugin has no such route (404 rest_no_route).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectors.woocommerce.api_keys import DESCRIPTION_PREFIX, LIFETIME_SECONDS, signature

if TYPE_CHECKING:
    from connectors.woocommerce.simulator.store import SimulatedStore

CLOCK_SKEW_SECONDS = 60
MAX_IDS = 100


@dataclass
class CompanionPlugin:
    """Settings > Tastemaker as the merchant filled it in ("" until they did)."""

    public_key: str = ""
    login_secret: str = ""


def handle(store: SimulatedStore, params: Any, now: int) -> tuple[int, dict[str, Any]]:
    plugin = store.companion
    if plugin is None:
        message = "No route was found matching the URL and request method."
        return _error(404, "rest_no_route", message)
    if not (plugin.public_key and plugin.login_secret):
        return _error(
            503,
            "tastemaker_not_configured",
            "The Tastemaker plugin has no shop key or sign-in secret yet.",
        )
    params = params if isinstance(params, Mapping) else {}
    ids = params.get("key_ids")
    if not isinstance(ids, list) or len(ids) > MAX_IDS or not all(map(_positive_integer, ids)):
        return _error(400, "tastemaker_invalid_key_ids", "key_ids must be a list of key ids.")
    if not hmac.compare_digest(plugin.public_key, str(params.get("shop") or "")):
        return _error(403, "tastemaker_wrong_shop", "This store is not that shop.")
    expires = _int(params.get("expires"))
    if expires < now or expires > now + LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        return _error(401, "tastemaker_expired", "The request has expired.")
    nonce = str(params.get("nonce") or "")
    signed = {"shop": params["shop"], "key_ids": sorted(int(i) for i in ids), "expires": expires}
    expected = signature(plugin.login_secret, {**signed, "nonce": nonce})
    if not nonce or not hmac.compare_digest(expected, str(params.get("signature") or "")):
        return _error(
            401,
            "tastemaker_bad_signature",
            "The request is not signed with this shop's sign-in secret.",
        )
    result: dict[str, list[int]] = {"revoked": [], "missing": [], "not_ours": []}
    with store.lock:
        by_id = {key.key_id: key for key in store.keys.values()}
        for key_id in sorted({int(i) for i in ids}):
            key = by_id.get(key_id)
            if key is None:
                result["missing"].append(key_id)
            elif not key.description.startswith(DESCRIPTION_PREFIX):
                result["not_ours"].append(key_id)
            else:
                store.revoke_key(key.consumer_key)
                result["revoked"].append(key_id)
    return 200, result


def _positive_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isdigit() and int(value) > 0


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": message, "data": {"status": status}}
