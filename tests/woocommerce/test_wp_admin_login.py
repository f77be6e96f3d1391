"""The companion plugin's WooCommerce > Tastemaker page and its "Open Tastemaker" button, run in
PHP under WordPress stand-ins; the links it makes are followed into the real app."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from connectors.woocommerce.simulator import SimulatedStore
from plugin.models import Shop
from tests.woocommerce.test_admin_signin import (
    HTTPS,
    connect_store,
    login_secret,
    signed_in_as,
)
from tests.woocommerce.test_companion_plugin import php
from tests.woocommerce.test_connect_flow import only_shop

HARNESS = Path(__file__).resolve().parent / "php" / "login_harness.php"
SECRET = "s3cret-0123456789abcdefghijklmnopqrstu"
SETTINGS = {"url": "https://tastemaker.test/", "public_key": "pk_shop12345", "login_secret": SECRET}
GOOD_NONCE = {"_wpnonce": "nonce-for-tastemaker_open"}


def run(scenario: str, **given: Any) -> dict[str, Any]:
    done = subprocess.run(
        [php(), str(HARNESS), scenario, json.dumps(given)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_link_php_makes_signs_in_to_the_right_shop_once(
    client: FlaskClient, session: Session, wire: SimulatedStore
) -> None:
    # given a connected store whose plugin holds the shop's key and sign-in secret
    connect_store(client, wire)
    shop: Shop = only_shop(session)
    other = client.application.test_client()
    # when the plugin makes a link now and a browser follows it
    link = run(
        "link",
        url="https://tastemaker.test",
        public_key=shop.public_key,
        secret=login_secret(shop),
        now=int(time.time()),
        nonce=secrets.token_hex(16),
    )["link"]
    path = link.removeprefix("https://tastemaker.test")
    first = other.get(path, **HTTPS)  # type: ignore[arg-type]
    # then that browser is signed in; the same link again signs nobody in
    assert (first.status_code, first.headers["Location"]) == (302, "/admin")
    assert signed_in_as(other) is not None
    third = client.application.test_client()
    assert third.get(path, **HTTPS).status_code == 403  # type: ignore[arg-type]
    assert signed_in_as(third) is None


def test_the_page_is_for_users_who_manage_woocommerce_only() -> None:
    # a shop manager sees the connection and the button, but never the secret or a link
    manager = run("page", settings=SETTINGS, can=["manage_woocommerce"])
    assert manager["menus"] == [["woocommerce", "manage_woocommerce", "tastemaker-admin"]]
    assert "Connected to" in manager["output"]
    assert "Open Tastemaker" in manager["output"]
    assert SECRET not in manager["output"]
    assert "/woocommerce/login" not in manager["output"]
    # anyone else sees nothing
    assert run("page", settings=SETTINGS, can=["edit_posts"])["output"] == ""
    # and an unconnected plugin says so instead of offering the button
    assert "Not connected yet" in run("page", settings={}, can=["manage_woocommerce"])["output"]


def test_the_button_makes_a_link_that_expires_within_a_minute() -> None:
    before = int(time.time())
    result = run("open", settings=SETTINGS, can=["manage_woocommerce"], post=GOOD_NONCE)
    link = urlsplit(result["redirect"])
    query = {name: values[0] for name, values in parse_qs(link.query).items()}
    assert (link.scheme, link.netloc, link.path) == (
        "https",
        "tastemaker.test",
        "/woocommerce/login",
    )
    assert set(query) == {"shop", "expires", "nonce", "signature"}
    assert query["shop"] == "pk_shop12345"
    assert 0 < int(query["expires"]) - before <= 61
    assert SECRET not in result["redirect"]
    # a second press makes a different link (fresh nonce)
    again = run("open", settings=SETTINGS, can=["manage_woocommerce"], post=GOOD_NONCE)
    assert again["redirect"] != result["redirect"]


def test_the_button_refuses_other_users_and_forged_posts() -> None:
    nobody = run("open", settings=SETTINGS, can=["edit_posts"], post=GOOD_NONCE)
    forged = run("open", settings=SETTINGS, can=["manage_woocommerce"], post={"_wpnonce": "x"})
    for result in (nobody, forged):
        assert result["redirect"] is None
        assert result["died"][1] == 403
