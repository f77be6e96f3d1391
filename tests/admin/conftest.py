"""Two shops with API keys, and an API client that checks every answer against /openapi.json."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from plugin.models import Shop
from plugin.web.admin_api.openapi import build_document, openapi_path
from tests.admin.factories import make_key, make_shop


@dataclass
class ShopKey:
    shop: Shop
    key: str

    @property
    def id(self) -> int:
        return self.shop.id


@pytest.fixture
def shop_a(session: Session) -> ShopKey:
    shop = make_shop(session, "alpha.example", payout_minimum_minor=0)
    return ShopKey(shop, make_key(session, shop))


@pytest.fixture
def shop_b(session: Session) -> ShopKey:
    shop = make_shop(session, "bravo.example")
    return ShopKey(shop, make_key(session, shop))


class Api:
    """Calls /api/v1 as a shop and validates each documented response body against its schema."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self.document = build_document("https://tastemaker.test", app.url_map)
        self.adapter = app.url_map.bind("tastemaker.test")

    def call(
        self, method: str, path: str, who: ShopKey | None, json: Any = None, data: Any = None
    ) -> TestResponse:
        headers = {"Authorization": f"Bearer {who.key}"} if who else {}
        response = self.client.open(path, method=method, headers=headers, json=json, data=data)
        self._check_documented(method, path, response)
        return response

    def get(self, path: str, who: ShopKey | None) -> TestResponse:
        return self.call("GET", path, who)

    def post(self, path: str, who: ShopKey | None, json: Any = None) -> TestResponse:
        return self.call("POST", path, who, json=json)

    def patch(self, path: str, who: ShopKey | None, json: Any = None) -> TestResponse:
        return self.call("PATCH", path, who, json=json)

    def delete(self, path: str, who: ShopKey | None) -> TestResponse:
        return self.call("DELETE", path, who)

    def _check_documented(self, method: str, path: str, response: TestResponse) -> None:
        rule, _ = self.adapter.match(path.split("?", 1)[0], method=method, return_rule=True)
        operation = self.document["paths"][openapi_path(rule.rule)][method.lower()]
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, (
            f"{method} {path} answered undocumented {response.status_code}"
        )
        content = documented.get("content", {})
        if "application/json" in content:
            schema = {
                **content["application/json"]["schema"],
                "components": self.document["components"],
            }
            Draft202012Validator(schema).validate(response.get_json())
        elif "text/csv" in content:
            assert response.mimetype == "text/csv"


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    return Api(app, client)
