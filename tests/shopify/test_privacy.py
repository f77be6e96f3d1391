"""Compliance: a customer's data export, a customer's erasure (money kept), a shop's erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.shopify.simulator import ShopifySimulator
from connectors.shopify.webhooks import sign
from plugin.crypto import hash_email
from plugin.models import (
    Attribution,
    Click,
    Creator,
    LedgerEntry,
    Order,
    ReferralLink,
    Reward,
    Shop,
    UgcPost,
    WebhookEvent,
)
from plugin.services import privacy
from plugin.tenancy import Tenant
from tests.shopify.conftest import API_SECRET, SHOP, install_shop

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CLICK = "0123456789abcdef0123456789abcdef"
BOB = privacy.CustomerRef("207119551", hash_email("bob@example.com"), (450789469,))


def seed(session: Session, shop: Shop) -> dict[str, Any]:
    """Bob's order (with a click and an attribution), Jane's order, a ledger row, a UGC post."""
    tenant = Tenant(session, shop.id)
    creator = tenant.add(Creator(handle="ava"))
    session.flush()
    link = tenant.add(ReferralLink(creator_id=creator.id, slug="ava-link-1"))
    session.flush()
    tenant.add(
        Click(
            link_id=link.id,
            creator_id=creator.id,
            click_uid=CLICK,
            occurred_at=WHEN,
            visitor_hash="v" * 64,
            referrer_host="instagram.com",
        )
    )
    bob = tenant.add(
        Order(
            platform_order_id=450789469,
            order_number="#1001",
            currency="USD",
            presentment_currency="USD",
            total_minor=59894,
            net_item_revenue_minor=58700,
            customer_ref="207119551",
            customer_email_hash=hash_email("bob@example.com"),
            click_uid=CLICK,
            landing_site="https://jsmith.myshopify.com/?tm_click=" + CLICK,
            referring_site="https://instagram.com/ava",
            placed_at=WHEN,
            platform_updated_at=WHEN,
        )
    )
    jane = tenant.add(
        Order(
            platform_order_id=1073459981,
            currency="USD",
            presentment_currency="USD",
            total_minor=18109,
            customer_ref="1073339475",
            customer_email_hash=hash_email("jane@example.com"),
            landing_site="https://jsmith.myshopify.com/",
            placed_at=WHEN,
            platform_updated_at=WHEN,
        )
    )
    session.flush()
    tenant.add(
        Attribution(
            order_id=bob.id,
            creator_id=creator.id,
            method="click",
            evidence={"click_uid": CLICK, "landing_site": bob.landing_site, "code": None},
        )
    )
    tenant.add(
        LedgerEntry(
            creator_id=creator.id,
            order_id=bob.id,
            kind="commission",
            amount_minor=5870,
            currency="USD",
            available_at=WHEN,
            idempotency_key=f"commission:{bob.id}",
        )
    )
    tenant.add(UgcPost(source="creator", creator_id=creator.id, author_handle="ava", caption="hi"))
    session.commit()
    return {"bob": bob.id, "jane": jane.id, "creator": creator.id}


def test_the_export_holds_what_we_have_about_the_customer(
    app: Flask, session: Session, simulator: ShopifySimulator
) -> None:
    # given
    shop = install_shop(app, session, simulator)
    seed(session, shop)
    # when
    export = privacy.export_customer_data(session, shop.id, BOB)
    # then
    assert [order["platform_order_id"] for order in export["orders"]] == [450789469]
    assert export["orders"][0]["click_ids"] == [CLICK]
    assert export["orders"][0]["total_minor"] == 59894
    assert export["clicks"] == [
        {
            "click_uid": CLICK,
            "occurred_at": WHEN.isoformat(),
            "referrer_host": "instagram.com",
            "link_id": export["clicks"][0]["link_id"],
        }
    ]
    assert [a["method"] for a in export["attributions"]] == ["click"]
    assert export["customer"] == {"id": "207119551", "email_sha256": hash_email("bob@example.com")}
    assert export["ugc_posts"] == []  # UGC is keyed by social handle, never by store customer
    json.dumps(export)  # plain JSON, ready to hand over


def test_redaction_erases_the_customer_and_keeps_the_money(
    app: Flask, session: Session, simulator: ShopifySimulator
) -> None:
    # given
    shop = install_shop(app, session, simulator)
    ids = seed(session, shop)
    # when
    summary = privacy.redact_customer(session, shop.id, BOB)
    session.commit()
    # then Bob's personal data is gone
    session.expire_all()
    bob = session.get(Order, ids["bob"])
    assert bob is not None
    assert (bob.customer_ref, bob.customer_email_hash, bob.landing_site, bob.referring_site) == (
        None,
        None,
        None,
        None,
    )
    click = session.scalars(select(Click)).one()
    assert (click.visitor_hash, click.referrer_host) == ("", None)
    attribution = session.scalars(select(Attribution)).one()
    assert attribution.evidence == {
        "click_uid": CLICK,
        "landing_site": privacy.REDACTED,
        "code": None,
    }
    # and the money, the ledger and the other customer are untouched
    assert (bob.total_minor, bob.net_item_revenue_minor) == (59894, 58700)
    assert [e.amount_minor for e in session.scalars(select(LedgerEntry))] == [5870]
    jane = session.get(Order, ids["jane"])
    assert jane is not None
    assert jane.customer_ref == "1073339475"
    assert (summary.orders, summary.clicks, summary.attributions) == (1, 1, 1)
    # and running it again changes nothing more
    again = privacy.redact_customer(session, shop.id, BOB)
    assert (again.clicks, again.attributions) == (1, 0)


def test_redaction_is_scoped_to_the_shop(
    app: Flask, session: Session, simulator: ShopifySimulator
) -> None:
    shop = install_shop(app, session, simulator)
    other = install_shop(app, session, simulator, "other-shop.myshopify.com")
    seed(session, shop)
    privacy.redact_customer(session, other.id, BOB)
    session.commit()
    session.expire_all()
    assert (
        session.scalars(
            select(Order.customer_ref).where(Order.platform_order_id == 450789469)
        ).one()
        == "207119551"
    )


def test_shop_erasure_removes_every_row_and_the_exports(
    app: Flask, session: Session, simulator: ShopifySimulator, tmp_path: Any
) -> None:
    shop = install_shop(app, session, simulator)
    seed(session, shop)
    privacy.write_export(tmp_path, shop.id, 1, {"x": 1})
    assert privacy.redact_shop(session, shop.id, keep_event_id=None, export_root=tmp_path)
    session.commit()
    session.expire_all()
    for model in (Order, Click, Attribution, LedgerEntry, Creator, UgcPost, Shop):
        assert session.scalars(select(model)).all() == []
    assert privacy.list_exports(tmp_path, shop.id) == []


def test_a_data_request_webhook_produces_an_export_the_merchant_downloads(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator, run_jobs: Any
) -> None:
    # given
    shop = install_shop(app, session, simulator)
    seed(session, shop)
    body = json.dumps(
        {
            "shop_id": 1,
            "shop_domain": SHOP,
            "orders_requested": [450789469],
            "customer": {"id": 207119551, "email": "bob@example.com", "phone": None},
            "data_request": {"id": 9999},
        }
    ).encode()
    # when Shopify sends customers/data_request and the inbox processes it
    response = client.post(
        "/webhooks/shopify",
        data=body,
        headers={
            "X-Shopify-Topic": "customers/data_request",
            "X-Shopify-Hmac-Sha256": sign(body, API_SECRET),
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Event-Id": "evt-dr",
        },
    )
    run_jobs()
    # then the merchant's embedded admin lists and downloads the export
    assert response.status_code == 200
    headers = {"Authorization": f"Bearer {simulator.session_token(SHOP)}"}
    listing = client.get("/shopify/privacy-exports", headers=headers)
    assert listing.get_json()["exports"][0]["request_id"] == 9999
    download = client.get("/shopify/privacy-exports/9999", headers=headers)
    assert download.status_code == 200
    export = json.loads(download.data)
    assert (export["data_request_id"], [o["platform_order_id"] for o in export["orders"]]) == (
        9999,
        [450789469],
    )
    assert session.scalars(select(WebhookEvent.status)).one() == "processed"


def test_another_shop_cannot_download_an_export(
    app: Flask, client: FlaskClient, session: Session, simulator: ShopifySimulator
) -> None:
    shop = install_shop(app, session, simulator)
    install_shop(app, session, simulator, "other-shop.myshopify.com")
    root = privacy.export_root(app.config["TASTEMAKER"].media_dir)
    privacy.write_export(root, shop.id, 5, {"secret": True})
    headers = {"Authorization": f"Bearer {simulator.session_token('other-shop.myshopify.com')}"}
    assert client.get("/shopify/privacy-exports/5", headers=headers).status_code == 404


def test_redaction_erases_the_shoppers_try_and_tag_post(
    app: Flask, session: Session, simulator: ShopifySimulator
) -> None:
    # given a Try & Tag post whose only link to Bob is his reward's email hash
    shop = install_shop(app, session, simulator)
    tenant = Tenant(session, shop.id)
    post = tenant.add(
        UgcPost(
            source="try_and_tag",
            network="instagram",
            post_url="https://www.instagram.com/p/bob-tries-it/",
            caption="Loving it",
            author_handle="bob.tries",
        )
    )
    session.flush()
    tenant.add(Reward(ugc_post_id=post.id, customer_email_hash=BOB.email_hash, code="TT-BOB"))
    session.commit()
    # when Bob's data is erased
    summary = privacy.redact_customer(session, shop.id, BOB)
    session.commit()
    # then the post no longer says who he is, and the reward no longer names him
    session.expire_all()
    erased = session.get(UgcPost, post.id)
    assert erased is not None
    assert (erased.author_handle, erased.post_url, erased.caption) == ("", None, "")
    assert erased.moderation_status == "hidden"
    reward = session.scalars(select(Reward)).one()
    assert (reward.customer_email_hash, reward.code) == (None, "TT-BOB")
    assert (summary.ugc_posts, summary.rewards) == (1, 1)
