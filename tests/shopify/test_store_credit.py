"""Try & Tag rewards as Shopify store credit: `storeCreditAccountCredit` on the shopper's
customer account, through the real connector and the simulator, once per reward."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import StoreCreditSpec, TerminalConnectorError
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.simulator import ShopifySimulator
from plugin.db import get_session
from plugin.models.email import OutboundEmail
from plugin.models.ugc import Reward, UgcPost
from plugin.services import ugc
from plugin.tenancy import Tenant
from tests.rewards.factories import open_program, submit
from tests.shopify.conftest import SHOP, context_for, install_shop
from workers.jobs.rewards import issue_try_and_tag_reward
from workers.runtime import enqueue

SHOPPER = "shopper@example.com"


def test_the_connector_credits_the_customer_found_by_email(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    customer = simulator.state.add_customer(SHOP, SHOPPER)
    spec = StoreCreditSpec(SHOPPER, 1250, "USD", "reward:1")
    issued = connector.issue_store_credit(context_for(simulator), spec)
    (transaction,) = simulator.shop(SHOP).credit_transactions
    assert issued.platform_id == transaction["id"]
    assert (transaction["owner"], transaction["amount"]) == (
        customer,
        {"amount": "12.50", "currencyCode": "USD"},
    )
    with pytest.raises(TerminalConnectorError, match="no customer account"):
        connector.issue_store_credit(
            context_for(simulator), StoreCreditSpec("x@y.z", 1, "USD", "r")
        )


def test_an_approved_post_earns_store_credit_once_and_the_shopper_is_told(
    app: Flask, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    # given a program paying USD 5.00 of store credit and a shopper with a customer account
    shop = install_shop(app, session, simulator)
    simulator.state.add_customer(SHOP, SHOPPER)
    open_program(
        session, shop, reward_kind="store_credit", discount_kind="fixed_amount", discount_value=500
    )
    session.commit()
    reward, _token = submit(session, shop, email=SHOPPER)
    post = get_session().get(UgcPost, reward.ugc_post_id)
    assert post is not None
    # when the merchant approves it, and the job runs again later
    ugc.moderate(Tenant(get_session(), shop.id), post, "approve")
    get_session().commit()
    run_jobs()
    enqueue(issue_try_and_tag_reward, post.id)
    run_jobs()
    # then one credit of USD 5.00 went to the customer, and the shopper got an email
    (transaction,) = simulator.shop(SHOP).credit_transactions
    assert transaction["amount"] == {"amount": "5.00", "currencyCode": "USD"}
    stored = get_session().scalars(select(Reward)).one()
    assert (stored.status, stored.kind, stored.platform_id, stored.email_encrypted) == (
        "issued",
        "store_credit",
        transaction["id"],
        None,
    )
    email = get_session().scalars(select(OutboundEmail)).one()
    assert email.subject == "Your USD 5.00 store credit from jsmith.myshopify.com"
    assert "USD 5.00 of store credit to your customer account" in email.text_body
