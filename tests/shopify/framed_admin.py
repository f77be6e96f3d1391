"""The Shopify admin as browser tests drive it: the app framed by an "admin" on another site.

The app runs on 127.0.0.1, the Shopify admin stand-in (plugin.demo.admin_host) on localhost: a
different site, so the app is a third party inside the frame. Third-party cookies are blocked,
and `Watch` records every cookie the browser sends to the app, so the tests can show their
workflows work with App Bridge session tokens only. `served` and `browser` are module-scoped
fixtures (registered in tests/shopify/conftest.py): each test module gets its own app, database
and admin stand-in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from connectors.shopify.oauth import TokenSet
from connectors.shopify.simulator import ShopifySimulator
from plugin import create_app
from plugin.db import get_db
from plugin.demo.admin_host import AdminHost
from plugin.extensions import credentials
from plugin.migrate import upgrade
from plugin.models import Shop
from tests.admin.browser_seed import seed
from tests.admin.factories import make_creator, make_shop
from tests.browser_server import chromium
from tests.conftest import make_settings

API_KEY = "browser-test-api-key"
API_SECRET = "browser-test-client-secret-0123456789"
SHOP_A = "loom-and-thread.myshopify.com"
SHOP_B = "bravo-goods.myshopify.com"
REFUSED = "Your Shopify session could not be confirmed"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Third-party cookies off, as browsers increasingly ship: the app must not need them.
THIRD_PARTY_COOKIES_OFF = [
    "--test-third-party-cookie-phaseout",
    "--disable-third-party-cookies",
]


@dataclass
class Served:
    app: Any
    app_url: str
    admin: AdminHost
    simulator: ShopifySimulator


def shop_tokens(simulator: ShopifySimulator, shop: str) -> dict[str, Any]:
    return TokenSet.from_response(simulator.issue_token(shop)).as_credentials()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("embedded")
    database_url = f"sqlite:///{tmp / 'embedded.sqlite3'}"
    upgrade(database_url)
    simulator = ShopifySimulator(API_KEY, API_SECRET).start()
    holder: dict[str, Any] = {}
    http = make_server("127.0.0.1", 0, lambda e, r: holder["app"](e, r), threaded=True)
    app_url = f"http://127.0.0.1:{http.server_port}"
    admin = AdminHost(API_KEY, API_SECRET, app_url).start("localhost")
    settings = make_settings(
        tmp,
        database_url=database_url,
        public_url=app_url,
        shopify_api_key=API_KEY,
        shopify_api_secret=API_SECRET,
        shopify_base_url_override=simulator.url,
        shopify_admin_origin=admin.url,
        shopify_app_bridge_url=admin.app_bridge_url,
    )
    app = holder["app"] = create_app(settings)
    with app.app_context():
        session = get_db(app).new_session()
        seeded = seed(session)
        shop = session.get(Shop, seeded.shop_id)
        assert shop is not None
        shop.platform, shop.domain = "shopify", SHOP_A
        shop.credentials_encrypted = credentials(app).seal(shop_tokens(simulator, SHOP_A))
        other = make_shop(session, SHOP_B, platform="shopify", name="Bravo Goods")
        other.credentials_encrypted = credentials(app).seal(shop_tokens(simulator, SHOP_B))
        make_creator(session, other, "bravo.only", name="Only In Bravo")
        session.commit()
        session.close()
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield Served(app, app_url, admin, simulator)
    http.shutdown()
    thread.join(timeout=10)
    admin.stop()
    simulator.stop()
    get_db(app).dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(*THIRD_PARTY_COOKIES_OFF) as instance:
        yield instance


class Watch:
    """What the browser sent to the app and what went wrong on the pages."""

    def __init__(self, page: Any, app_url: str) -> None:
        self.app_url = app_url
        self.cookies_sent: list[str] = []
        self.cookies_set: list[str] = []
        self.errors: list[str] = []
        self.bearer_requests = 0
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _request(self, request: Any) -> None:
        if not request.url.startswith(self.app_url):
            return
        headers = request.all_headers()
        if "cookie" in headers:
            self.cookies_sent.append(request.url)
        if headers.get("authorization", "").startswith("Bearer "):
            self.bearer_requests += 1

    def _response(self, response: Any) -> None:
        if response.url.startswith(self.app_url) and "set-cookie" in response.all_headers():
            self.cookies_set.append(response.url)

    def _console(self, message: Any) -> None:
        if (
            message.type in ("error", "warning") and "Content-Security-Policy" in message.text
        ) or message.type == "error":
            self.errors.append(message.text)


def db_rows(served: Served, statement: Any) -> list[Any]:
    with served.app.app_context():
        session = get_db(served.app).new_session()
        rows = list(session.scalars(statement))
        session.close()
    return rows
