"""Two shops with API keys, an OpenAPI-checking client, a scripted store, and reward helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from connectors import base
from connectors.base import (
    ConnectorConfig,
    CreatedDiscountCode,
    DiscountCodeSpec,
    DiscountCodeTaken,
    RetryableConnectorError,
    ShopContext,
)
from plugin.db import get_session
from plugin.extensions import connectors
from plugin.models import Shop
from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import make_key, make_shop
from workers.backends import InProcessBackend
from workers.runtime import get_backend

SCRIPTED = "test-rewards-scripted"
T = TypeVar("T")


@pytest.fixture
def shop_a(session: Session) -> ShopKey:
    shop = make_shop(session, "alpha.example")
    key = make_key(session, shop)
    session.commit()
    return ShopKey(shop, key)


@pytest.fixture
def shop_b(session: Session) -> ShopKey:
    shop = make_shop(session, "bravo.example")
    key = make_key(session, shop)
    session.commit()
    return ShopKey(shop, key)


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    return Api(app, client)


class CreatedThenTimedOut(RetryableConnectorError):
    """The store made the code, but the answer never arrived."""


class ScriptedStore:
    """A store that answers each create with the next scripted outcome (None = do it), and
    like a real store refuses a code it already has."""

    platform: ClassVar[str] = SCRIPTED

    def __init__(self, config: ConnectorConfig) -> None:
        self.outcomes: list[Exception | None] = []
        self.calls: list[DiscountCodeSpec] = []
        self.codes: dict[str, str] = {}

    def create_discount_code(
        self, shop: ShopContext, spec: DiscountCodeSpec
    ) -> CreatedDiscountCode:
        self.calls.append(spec)
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None and not isinstance(outcome, CreatedThenTimedOut):
            raise outcome
        if spec.code.lower() in self.codes:
            raise DiscountCodeTaken(spec.code, [f"{spec.code}X"])
        platform_id = f"gid://discount/{len(self.codes) + 1}"
        self.codes[spec.code.lower()] = platform_id
        if outcome is not None:
            raise outcome
        return CreatedDiscountCode(platform_id=platform_id, code=spec.code)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


@pytest.fixture
def store(app: Flask) -> Iterator[ScriptedStore]:
    base.register(SCRIPTED)(ScriptedStore)
    connector = connectors().get(SCRIPTED)
    assert isinstance(connector, ScriptedStore)
    yield connector
    base._FACTORIES.pop(SCRIPTED, None)


@pytest.fixture
def scripted_shop(session: Session) -> Shop:
    shop = make_shop(session, "scripted.example", platform=SCRIPTED)
    session.commit()
    return shop


def reload(row: T) -> T:
    """The row as the database has it now (running a job ends the test's scoped session)."""
    identity = inspect(row).identity
    assert identity is not None
    fresh = get_session().get(type(row), identity[0], populate_existing=True)
    assert fresh is not None
    return fresh


def backend(app: Flask) -> InProcessBackend:
    queue = get_backend(app)
    assert isinstance(queue, InProcessBackend)
    return queue
