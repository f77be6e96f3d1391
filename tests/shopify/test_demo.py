"""The demo part: a simulated Shopify and the real install flow against a served app."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from connectors.shopify.simulator import ShopifySimulator
from plugin import create_app
from plugin.db import get_db
from plugin.demo import shopify as demo
from plugin.migrate import upgrade
from plugin.models import Shop
from plugin.services.shops import find_shop
from tests.conftest import make_settings
from workers.backends import InProcessBackend
from workers.runtime import get_backend


@dataclass
class Served:
    app: Flask
    base: str
    lines: list[str]

    @property
    def simulator(self) -> ShopifySimulator:
        simulator: ShopifySimulator = self.app.extensions[demo.SIMULATOR_KEY]
        return simulator


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    upgrade(url)
    holder: dict[str, Flask] = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, respond: holder["app"](env, respond), threaded=True
    )
    base = f"http://127.0.0.1:{server.server_port}"
    # As `tastemaker demo` runs without Shopify credentials in the environment.
    settings = make_settings(
        tmp_path, database_url=url, public_url=base, shopify_api_key=None, shopify_api_secret=None
    )
    app = holder["app"] = create_app(settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    lines = demo.start(app, base)
    yield Served(app, base, lines)
    app.extensions[demo.SIMULATOR_KEY].stop()
    server.shutdown()
    thread.join()
    server.server_close()
    get_db(app).dispose()


def test_the_printed_link_installs_the_shop_and_lands_in_the_admin(served: Served) -> None:
    # given the link the demo prints
    link = next(line for line in served.lines if demo.DEMO_SHOPS[0] in line).split(": ", 1)[1]
    # when a browser follows it
    browser = requests.Session()
    landing = browser.get(link, timeout=10)
    # then it went through install, Shopify's approval and the callback, into the admin
    hops = [urlsplit(r.url).path for r in landing.history]
    assert hops == [
        f"/{demo.DEMO_SHOPS[0]}/admin/apps/{demo.DEMO_API_KEY}",
        "/shopify/install",
        f"/{demo.DEMO_SHOPS[0]}/admin/oauth/authorize",
        "/shopify/callback",
    ]
    final = urlsplit(landing.url)
    assert (final.netloc, final.path) == (urlsplit(served.base).netloc, "/admin")
    assert parse_qs(final.query)["shop"] == [demo.DEMO_SHOPS[0]]
    assert landing.status_code == 200
    assert "<title>Dashboard · Tastemaker Demo · Tastemaker</title>" in landing.text
    # and the shop is installed with an expiring token, its webhooks subscribed on the simulator
    backend = get_backend(served.app)
    assert isinstance(backend, InProcessBackend)
    backend.drain(timeout=30)
    with get_db(served.app).transaction() as session:
        shop = find_shop(session, "shopify", demo.DEMO_SHOPS[0])
        assert isinstance(shop, Shop)
        assert shop.status == "active"
    assert len(served.simulator.shop(demo.DEMO_SHOPS[0]).webhooks) == 5
    assert served.simulator.shop(demo.DEMO_SHOPS[0]).app_metafields["tastemaker.api_url"] == (
        served.base
    )


def test_uninstall_and_reinstall_over_http(served: Served) -> None:
    # given the shop installed through the printed link
    shop = demo.DEMO_SHOPS[1]
    link = next(line for line in served.lines if shop in line).split(": ", 1)[1]
    backend = get_backend(served.app)
    assert isinstance(backend, InProcessBackend)
    assert requests.Session().get(link, timeout=10).status_code == 200
    backend.drain(timeout=30)
    # when the merchant uninstalls: Shopify revokes the token and POSTs app/uninstalled
    assert served.simulator.uninstall(shop) == [200]
    backend.drain(timeout=30)
    with get_db(served.app).transaction() as session:
        uninstalled = find_shop(session, "shopify", shop)
        assert uninstalled is not None
        assert (uninstalled.status, uninstalled.credentials_encrypted) == ("uninstalled", None)
    # then installing again runs OAuth again and brings the shop back
    again = requests.Session().get(link, timeout=10)
    assert "/shopify/callback" in [urlsplit(r.url).path for r in again.history]
    backend.drain(timeout=30)
    with get_db(served.app).transaction() as session:
        back = find_shop(session, "shopify", shop)
        assert back is not None
        assert back.status == "active"
    assert len(served.simulator.calls_of("token:code", shop)) == 2
