"""The codes jobs against a scripted connector: retries, terminal errors, revoked credentials."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

import pytest
from flask import Flask
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from connectors import base
from connectors.base import (
    ConnectorConfig,
    CreatedDiscountCode,
    CredentialsRevoked,
    DiscountCodeSpec,
    RetryableConnectorError,
    ShopContext,
    TerminalConnectorError,
)
from plugin.db import get_session
from plugin.extensions import connectors
from plugin.models import DiscountCode, Shop, utcnow
from tests.admin.factories import make_code, make_creator, make_shop
from workers.backends import InProcessBackend
from workers.jobs.codes import (
    create_discount_code,
    deactivate_creator_codes,
    sweep_pending_codes,
)
from workers.runtime import enqueue, get_backend

PLATFORM = "test-scripted"


class ScriptedConnector:
    """Answers each store call with the next scripted outcome (an exception or None = success)."""

    platform: ClassVar[str] = PLATFORM

    def __init__(self, config: ConnectorConfig) -> None:
        self.outcomes: list[Exception | None] = []
        self.created: list[DiscountCodeSpec] = []
        self.deactivated: list[str] = []

    def _next(self) -> None:
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome

    def create_discount_code(
        self, shop: ShopContext, spec: DiscountCodeSpec
    ) -> CreatedDiscountCode:
        self._next()
        self.created.append(spec)
        return CreatedDiscountCode(platform_id=f"gid://{spec.code}", code=spec.code)

    def deactivate_discount_code(self, shop: ShopContext, platform_id: str) -> None:
        self._next()
        self.deactivated.append(platform_id)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


@pytest.fixture
def scripted(app: Flask) -> Iterator[ScriptedConnector]:
    base.register(PLATFORM)(ScriptedConnector)
    connector = connectors().get(PLATFORM)
    assert isinstance(connector, ScriptedConnector)
    yield connector
    base._FACTORIES.pop(PLATFORM, None)


@pytest.fixture
def shop(session: Session) -> Shop:
    return make_shop(session, "scripted.example", platform=PLATFORM)


T = TypeVar("T")


def reload(row: T) -> T:
    """The row as the database has it now (running a job ends the test's scoped session)."""
    identity = inspect(row).identity
    assert identity is not None
    fresh = get_session().get(type(row), identity[0])
    assert fresh is not None
    return fresh


def run(app: Flask, func: Callable[..., Any], *args: Any) -> int:
    enqueue(func, *args)
    backend = get_backend(app)
    assert isinstance(backend, InProcessBackend)
    return backend.drain()


def test_a_transient_failure_is_retried_until_the_store_accepts(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector
) -> None:
    # given
    creator = make_creator(session, shop, "anna")
    code = make_code(session, shop, creator, "ANNA10", value=1500, usage_limit=100)
    session.commit()
    scripted.outcomes = [RetryableConnectorError("503"), RetryableConnectorError("429")]
    # when
    ran = run(app, create_discount_code, code.id)
    # then
    code = reload(code)
    assert ran == 3
    assert (code.status, code.platform_id) == ("active", "gid://ANNA10")
    spec = scripted.created[0]
    assert (spec.code, spec.kind, spec.value, spec.usage_limit, spec.title) == (
        "ANNA10",
        "percentage",
        1500,
        100,
        "Tastemaker @anna: ANNA10",
    )


def test_retries_are_bounded_and_the_code_stays_pending_for_the_sweeper(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector
) -> None:
    creator = make_creator(session, shop, "anna")
    code = make_code(session, shop, creator, "ANNA10")
    session.commit()
    scripted.outcomes = [RetryableConnectorError("down")] * 10
    ran = run(app, create_discount_code, code.id)
    code = reload(code)
    assert ran == 4  # the first try and the decorator's three retries
    assert (code.status, scripted.created) == ("pending", [])


def test_a_terminal_error_fails_the_code_without_retrying(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector
) -> None:
    creator = make_creator(session, shop, "anna")
    code = make_code(session, shop, creator, "ANNA10")
    session.commit()
    scripted.outcomes = [TerminalConnectorError("value must be positive")]
    ran = run(app, create_discount_code, code.id)
    code = reload(code)
    assert ran == 1
    assert (code.status, code.error) == ("failed", "value must be positive")


def test_revoked_credentials_mark_the_shop_for_reconnection(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector
) -> None:
    creator = make_creator(session, shop, "anna")
    code = make_code(session, shop, creator, "ANNA10")
    session.commit()
    scripted.outcomes = [CredentialsRevoked("401 from the store")]
    run(app, create_discount_code, code.id)
    code = reload(code)
    shop = reload(shop)
    assert shop.status == "needs_reconnect"
    assert (code.status, code.error) == ("pending", "401 from the store")


@pytest.mark.parametrize("shop_status", ["needs_reconnect", "uninstalled"])
def test_nothing_is_sent_for_a_shop_that_is_not_active(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector, shop_status: str
) -> None:
    creator = make_creator(session, shop, "anna")
    code = make_code(session, shop, creator, "ANNA10")
    shop.status = shop_status
    session.commit()
    run(app, create_discount_code, code.id)
    code = reload(code)
    assert (code.status, scripted.created) == ("pending", [])


def test_a_gone_or_settled_code_is_left_alone(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector
) -> None:
    creator = make_creator(session, shop, "anna")
    active = make_code(session, shop, creator, "ANNA10", status="active", platform_id="gid://x")
    session.commit()
    assert run(app, create_discount_code, active.id) == 1
    assert run(app, create_discount_code, 987_654) == 1
    active = reload(active)
    assert (active.status, scripted.created) == ("active", [])


def test_a_code_of_a_creator_paused_meanwhile_is_never_created(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector
) -> None:
    creator = make_creator(session, shop, "anna", status="paused")
    code = make_code(session, shop, creator, "ANNA10")
    session.commit()
    run(app, create_discount_code, code.id)
    code = reload(code)
    assert (code.status, scripted.created) == ("deactivated", [])


def test_deactivating_a_creator_retires_live_codes_and_keeps_errors_visible(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector
) -> None:
    # given
    creator = make_creator(session, shop, "anna", status="terminated")
    live = make_code(session, shop, creator, "ANNA10", status="active", platform_id="gid://a")
    stuck = make_code(session, shop, creator, "ANNA20", status="active", platform_id="gid://b")
    pending = make_code(session, shop, creator, "ANNA30")
    failed = make_code(session, shop, creator, "ANNA40", status="failed")
    session.commit()
    scripted.outcomes = [None, TerminalConnectorError("discount not found")]
    # when
    run(app, deactivate_creator_codes, creator.id)
    # then
    live, stuck, pending, failed = (reload(row) for row in (live, stuck, pending, failed))
    assert scripted.deactivated == ["gid://a"]
    assert [row.status for row in (live, stuck, pending, failed)] == [
        "deactivated",
        "active",
        "deactivated",
        "failed",
    ]
    assert stuck.error == "deactivation failed: discount not found"


def test_deactivation_of_a_reactivated_creator_does_nothing(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector
) -> None:
    creator = make_creator(session, shop, "anna")
    live = make_code(session, shop, creator, "ANNA10", status="active", platform_id="gid://a")
    session.commit()
    run(app, deactivate_creator_codes, creator.id)
    live = reload(live)
    assert (live.status, scripted.deactivated) == ("active", [])


def test_a_transient_failure_while_deactivating_is_retried(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector
) -> None:
    creator = make_creator(session, shop, "anna", status="paused")
    live = make_code(session, shop, creator, "ANNA10", status="active", platform_id="gid://a")
    session.commit()
    scripted.outcomes = [RetryableConnectorError("timeout")]
    run(app, deactivate_creator_codes, creator.id)
    live = reload(live)
    assert (live.status, scripted.deactivated) == ("deactivated", ["gid://a"])


def _age(session: Session, code: DiscountCode, when: datetime) -> None:
    code.created_at = when
    session.flush()


def test_sweep_resends_stuck_codes_and_unfinished_deactivations(
    app: Flask, session: Session, shop: Shop, scripted: ScriptedConnector
) -> None:
    # given
    anna = make_creator(session, shop, "anna")
    ben = make_creator(session, shop, "ben", status="paused")
    stuck = make_code(session, shop, anna, "ANNA10")
    _age(session, stuck, utcnow() - timedelta(hours=1))
    make_code(session, shop, anna, "ANNA20")  # just created: its own job is on the way
    make_code(session, shop, ben, "BEN10", status="active", platform_id="gid://ben")
    dormant = make_shop(session, "dormant.example", platform=PLATFORM, status="needs_reconnect")
    old = make_code(session, dormant, make_creator(session, dormant, "cat"), "CAT10")
    _age(session, old, utcnow() - timedelta(hours=1))
    session.commit()
    backend = get_backend(app)
    assert isinstance(backend, InProcessBackend)
    # when
    count = sweep_pending_codes()
    # then
    assert count == 2
    assert backend.enqueued == [
        ("workers.jobs.codes.create_discount_code", (stuck.id,)),
        ("workers.jobs.codes.deactivate_creator_codes", (ben.id,)),
    ]
    backend.drain()
    assert [spec.code for spec in scripted.created] == ["ANNA10"]
    assert scripted.deactivated == ["gid://ben"]
