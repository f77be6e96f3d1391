"""The core's discount-code jobs driving the Shopify connector against the simulator."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from connectors.shopify.simulator import ShopifySimulator
from plugin.models import Creator, DiscountCode
from plugin.tenancy import Tenant
from tests.shopify.conftest import SHOP, install_shop
from workers.jobs.codes import create_discount_code, deactivate_creator_codes
from workers.runtime import enqueue


def pending_code(session: Session, shop_id: int, code: str) -> tuple[int, int]:
    tenant = Tenant(session, shop_id)
    creator = tenant.add(Creator(handle="ava"))
    session.flush()
    row = tenant.add(
        DiscountCode(creator_id=creator.id, code=code, code_normalized=code.lower(), value=1500)
    )
    session.commit()
    return creator.id, row.id


def test_a_creator_code_is_created_in_the_store(
    app: Flask, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    shop = install_shop(app, session, simulator)
    _creator_id, code_id = pending_code(session, shop.id, "AVA15")
    enqueue(create_discount_code, code_id)
    run_jobs()
    session.expire_all()
    code = session.get(DiscountCode, code_id)
    assert code is not None
    assert (code.status, code.platform_id) == ("active", simulator.shop(SHOP).codes["ava15"]["id"])
    assert simulator.shop(SHOP).codes["ava15"]["input"]["customerGets"]["value"] == {
        "percentage": 0.15
    }


def test_a_taken_code_is_reported_with_alternatives_and_not_retried(
    app: Flask, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    shop = install_shop(app, session, simulator)
    simulator.shop(SHOP).codes["ava15"] = {
        "id": "gid://shopify/DiscountCodeNode/7",
        "code": "AVA15",
        "title": "the merchant's own",
        "status": "ACTIVE",
        "input": {},
    }
    _creator_id, code_id = pending_code(session, shop.id, "AVA15")
    enqueue(create_discount_code, code_id)
    assert run_jobs() == 1
    session.expire_all()
    code = session.get(DiscountCode, code_id)
    assert code is not None
    assert (code.status, code.alternatives) == ("taken", ["AVA152", "AVA153", "AVA154"])
    assert len(simulator.calls_of("graphql:discountCodeBasicCreate")) == 0


def test_a_paused_creators_codes_are_deactivated_in_the_store(
    app: Flask, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    shop = install_shop(app, session, simulator)
    creator_id, code_id = pending_code(session, shop.id, "AVA15")
    enqueue(create_discount_code, code_id)
    run_jobs()
    creator = session.get(Creator, creator_id)
    assert creator is not None
    creator.status = "paused"
    session.commit()
    enqueue(deactivate_creator_codes, creator_id)
    run_jobs()
    session.expire_all()
    assert session.get(DiscountCode, code_id).status == "deactivated"  # type: ignore[union-attr]
    assert simulator.shop(SHOP).codes["ava15"]["status"] == "EXPIRED"
