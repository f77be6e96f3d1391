"""The companion plugin's API-key revoke route, run in PHP under WordPress stand-ins, and the
simulated store's copy of it: the same requests get the same answers and delete the same keys."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from connectors.woocommerce.api_keys import signed_request
from connectors.woocommerce.simulator import SimulatedStore, companion
from connectors.woocommerce.simulator.companion import CompanionPlugin
from tests.woocommerce.conftest import recording_transport
from tests.woocommerce.test_companion_plugin import php

HARNESS = Path(__file__).resolve().parent / "php" / "api_keys_harness.php"
SHOP = "pk_shop12345"
SECRET = "s3cret-0123456789abcdefghijklmnopqrstu"
SETTINGS = {"url": "https://tastemaker.test", "public_key": SHOP, "login_secret": SECRET}
NOW = 1_800_000_000
# Two keys wc-auth made for Tastemaker, then one the merchant made for another app.
DESCRIPTIONS = [
    "Tastemaker - API (2026-11-01 09:00:00)",
    "Tastemaker - API (2026-11-20 17:30:00)",
    "Zapier - API (2026-11-02 10:00:00)",
]


def store_with_keys() -> SimulatedStore:
    transport, _ = recording_transport()
    store = SimulatedStore(transport=transport)
    for text in DESCRIPTIONS:
        store.add_key(description=text)
    return store


def key_ids(store: SimulatedStore) -> list[int]:
    return sorted(key.key_id for key in store.keys.values())


def signed(ids: list[int], *, shop: str = SHOP, secret: str = SECRET, now: int = NOW) -> Any:
    return signed_request(public_key=shop, login_secret=secret, key_ids=ids, now=now)


def run_php(
    store: SimulatedStore, request: Any, settings: dict[str, str]
) -> tuple[int, Any, list[int]]:
    given = {
        "settings": settings,
        "keys": [
            {"key_id": key.key_id, "description": key.description} for key in store.keys.values()
        ],
        "request": request,
        "now": NOW,
    }
    done = subprocess.run(
        [php(), str(HARNESS), json.dumps(given)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["routes"] == [["tastemaker/v1", "/api-keys/revoke", "POST", "__return_true"]]
    return result["status"], result["body"], sorted(result["keys"])


def run_simulator(
    store: SimulatedStore, request: Any, settings: dict[str, str]
) -> tuple[int, Any, list[int]]:
    store.companion = CompanionPlugin(
        settings.get("public_key", ""), settings.get("login_secret", "")
    )
    status, body = companion.handle(store, request, NOW)
    return status, body, key_ids(store)


@pytest.mark.parametrize("run", [run_php, run_simulator], ids=["php", "simulator"])
def test_a_signed_request_deletes_only_the_named_tastemaker_keys(run: Any) -> None:
    # given
    store = store_with_keys()
    first, second, other_app = key_ids(store)
    # when Tastemaker asks to revoke its first key, the other app's key and an unknown id
    status, body, left = run(store, signed([first, other_app, 9_999]), SETTINGS)
    # then only its own key is deleted; the rest is reported, not touched
    assert status == 200
    assert body == {"revoked": [first], "missing": [9_999], "not_ours": [other_app]}
    assert left == [second, other_app]


def _tampered(request: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**request, **changes}


REFUSALS = {
    # another shop's request, properly signed with that shop's own secret
    "another-shop": (lambda ids: signed(ids, shop="pk_othershop1", secret="o" * 43), SETTINGS, 403),
    "wrong-secret": (lambda ids: signed(ids, secret="w" * 43), SETTINGS, 401),
    "more-ids-than-signed": (lambda ids: _tampered(signed(ids[:1]), key_ids=ids), SETTINGS, 401),
    "expired": (lambda ids: signed(ids, now=NOW - 301), SETTINGS, 401),
    "too-far-ahead": (lambda ids: signed(ids, now=NOW + 3_600), SETTINGS, 401),
    "unsigned": (lambda ids: {"shop": SHOP, "key_ids": ids}, SETTINGS, 401),
    "ids-not-a-list": (lambda ids: _tampered(signed(ids), key_ids="1,2"), SETTINGS, 400),
    "plugin-not-set-up": (lambda ids: signed(ids), {"url": "https://tastemaker.test"}, 503),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
@pytest.mark.parametrize("run", [run_php, run_simulator], ids=["php", "simulator"])
def test_a_request_that_does_not_prove_itself_deletes_nothing(run: Any, case: str) -> None:
    # given
    store = store_with_keys()
    before = key_ids(store)
    make, settings, expected = REFUSALS[case]
    # when
    status, body, left = run(store, make(before[:2]), settings)
    # then
    assert (status, body["data"]["status"], left) == (expected, expected, before)


def test_php_and_the_simulator_give_the_same_answers() -> None:
    for case in sorted(REFUSALS):
        make, settings, _ = REFUSALS[case]
        store = store_with_keys()
        request = make(key_ids(store)[:2])
        assert run_php(store, request, settings) == run_simulator(store, request, settings), case


def test_the_store_without_the_plugin_has_no_such_route() -> None:
    store = store_with_keys()
    status, body = companion.handle(store, signed(key_ids(store)), NOW)
    assert (status, body["code"]) == (404, "rest_no_route")
