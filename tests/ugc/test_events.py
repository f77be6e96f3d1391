"""The carousel's beacon (POST /storefront/<key>/events) and CTR per post and creator."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.models.ugc import UgcWidgetEvent
from plugin.services.ugc_events import CtrRow, ctr_bps, ctr_by_creator, ctr_by_post
from plugin.services.ugc_feed import EventLimiter
from plugin.web.storefront import LIMITER_KEY
from tests.ugc.conftest import Clock, ShopKey
from tests.ugc.factories import make_creator, make_post


def beacon(client: FlaskClient, shop: ShopKey, events: object, **kw: str) -> int:
    # sendBeacon with a string body: text/plain, no preflight
    response = client.post(
        f"/storefront/{shop.shop.public_key}/events",
        data=json.dumps({"events": events}),
        content_type="text/plain;charset=UTF-8",
        headers=kw,
    )
    return response.status_code


def stored(session: Session) -> list[tuple[int, str, str | None]]:
    rows = session.scalars(select(UgcWidgetEvent).order_by(UgcWidgetEvent.id))
    return [(row.ugc_post_id, row.kind, row.product_id) for row in rows]


def test_beacon_events_are_stored(client: FlaskClient, session: Session, shop_a: ShopKey) -> None:
    post, _ = make_post(session, shop_a.shop)
    session.commit()
    events = [
        {"post": post.id, "type": "impression", "product": "101"},
        {"post": post.id, "type": "click", "product": "101"},
        {"post": post.id, "type": "add_to_cart"},
    ]
    assert beacon(client, shop_a, events) == 204
    assert stored(session) == [
        (post.id, "impression", "101"),
        (post.id, "click", "101"),
        (post.id, "add_to_cart", None),
    ]
    row = session.scalars(select(UgcWidgetEvent)).first()
    assert row is not None
    assert len(row.visitor_hash) == 32


def test_events_naming_another_shops_post_are_dropped(
    client: FlaskClient, session: Session, shop_a: ShopKey, shop_b: ShopKey
) -> None:
    theirs, _ = make_post(session, shop_b.shop)
    mine, _ = make_post(session, shop_a.shop)
    session.commit()
    events = [{"post": theirs.id, "type": "click"}, {"post": mine.id, "type": "click"}]
    assert beacon(client, shop_a, events) == 204
    assert stored(session) == [(mine.id, "click", None)]
    assert session.scalar(select(UgcWidgetEvent.shop_id)) == shop_a.shop.id


def test_unknown_shops_are_accepted_and_ignored(client: FlaskClient, session: Session) -> None:
    response = client.post(
        "/storefront/pk_nobody/events", data='{"events":[{"post":1,"type":"click"}]}'
    )
    assert response.status_code == 204
    assert stored(session) == []


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"events": []}',
        '{"events": [{"post": "1", "type": "click"}]}',
        '{"events": [{"post": true, "type": "click"}]}',
        '{"events": [{"post": 1, "type": "purchase"}]}',
        '{"events": [{"post": 1, "type": "click", "product": "<x>"}]}',
        json.dumps({"events": [{"post": 1, "type": "click"}] * 51}),
    ],
)
def test_malformed_beacons_are_refused(client: FlaskClient, shop_a: ShopKey, body: str) -> None:
    response = client.post(f"/storefront/{shop_a.shop.public_key}/events", data=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_events"


def test_oversized_beacons_are_refused(client: FlaskClient, shop_a: ShopKey) -> None:
    response = client.post(f"/storefront/{shop_a.shop.public_key}/events", data="x" * 9000)
    assert response.status_code == 413


def test_a_visitor_flooding_events_is_capped_per_window(
    app: Flask, client: FlaskClient, session: Session, shop_a: ShopKey
) -> None:
    # given a budget of 5 events a minute
    clock = Clock()
    clock.set(clock())
    app.extensions[LIMITER_KEY] = EventLimiter(per_window=5, clock=clock)
    post, _ = make_post(session, shop_a.shop)
    session.commit()
    three = [{"post": post.id, "type": "impression"}] * 3
    # when
    for _ in range(3):
        assert beacon(client, shop_a, three) == 204
    other_visitor = beacon(client, shop_a, three, **{"User-Agent": "another browser"})
    clock.advance(timedelta(minutes=1))
    assert beacon(client, shop_a, three) == 204
    # then: 5 in the first window, 3 for the other visitor, 3 in the next window
    assert other_visitor == 204
    assert session.scalar(select(func.count()).select_from(UgcWidgetEvent)) == 11


def test_ctr_per_post_and_per_creator(session: Session, shop_a: ShopKey, shop_b: ShopKey) -> None:
    # given
    ava = make_creator(session, shop_a.shop, "ava")
    one, _ = make_post(session, shop_a.shop, source="creator", creator=ava, caption="#ad")
    two, _ = make_post(session, shop_a.shop, source="creator", creator=ava, caption="#ad")
    three, _ = make_post(session, shop_a.shop, handle="merchant_pick")
    noise, _ = make_post(session, shop_b.shop)
    plan = {
        one.id: {"impression": 4, "click": 1},
        two.id: {"impression": 6, "click": 1, "add_to_cart": 1},
        three.id: {"impression": 3},
    }
    for post_id, kinds in plan.items():
        for kind, count in kinds.items():
            for _ in range(count):
                session.add(UgcWidgetEvent(shop_id=shop_a.shop.id, ugc_post_id=post_id, kind=kind))
    session.add(UgcWidgetEvent(shop_id=shop_b.shop.id, ugc_post_id=noise.id, kind="click"))
    session.flush()
    # then
    assert ctr_by_post(session, shop_a.shop.id) == [
        CtrRow(one.id, one.author_handle, 4, 1),
        CtrRow(two.id, two.author_handle, 6, 2),
        CtrRow(three.id, "merchant_pick", 3, 0),
    ]
    [creator] = ctr_by_creator(session, shop_a.shop.id)
    assert (creator.key, creator.label, creator.impressions, creator.clicks) == (
        ava.id,
        "ava",
        10,
        3,
    )
    assert creator.ctr_bps == 3000


@pytest.mark.parametrize(
    ("clicks", "impressions", "bps"), [(0, 0, 0), (1, 3, 3333), (2, 3, 6667), (5, 5, 10000)]
)
def test_ctr_rounds_half_up_in_basis_points(clicks: int, impressions: int, bps: int) -> None:
    assert ctr_bps(clicks, impressions) == bps
