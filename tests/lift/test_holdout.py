"""The link holdout: a deterministic draw per visitor inside link resolution, the same tracked
destination without the discount, and an order from a held-out visitor attributed like any
other."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain.lift_holdout import holdout_salt, in_holdout
from plugin.models import Agreement, Attribution, Order, ReferralLink
from plugin.services import lift
from plugin.services.links import create_link
from plugin.tenancy import Tenant
from plugin.web.links import tracking
from tests.links.conftest import BROWSER, Store
from workers.jobs.clicks import flush_clicks

CLICK = re.compile(r"tm_click=([0-9a-f]{32})")


def test_the_draw_is_deterministic_per_visitor_and_near_the_share() -> None:
    salt = holdout_salt(7, 123)
    visitors = [f"{n:064x}" for n in range(10_000)]
    first = [in_holdout(salt, v, 1000) for v in visitors]
    assert first == [in_holdout(salt, v, 1000) for v in visitors]
    assert 900 <= sum(first) <= 1100
    # another test draws independently
    other = [in_holdout(holdout_salt(8, 123), v, 1000) for v in visitors]
    assert other != first
    assert not any(in_holdout(salt, v, 0) for v in visitors)


def _holdout_link(session: Session, store: Store, share_bps: int) -> ReferralLink:
    tenant = Tenant(session, store.shop.id)
    agreement = tenant.add(Agreement(creator_id=store.creator.id, campaign_id=store.campaign.id))
    session.flush()
    store.code.agreement_id = agreement.id  # the creator's code belongs to the campaign
    link = create_link(
        session,
        store.shop.id,
        store.creator.id,
        target_path="/products/mug",
        campaign_id=store.campaign.id,
        discount_code_id=store.code.id,
    )
    test = lift.create_test(
        tenant,
        {"campaign_id": store.campaign.id, "design": "holdout", "holdout_bps": share_bps},
    )
    lift.launch(tenant, test)
    session.commit()
    tracking().resolver.expire()
    return link


def _location(client: FlaskClient, slug: str, agent: str) -> str:
    response = client.get(f"/r/{slug}", headers={"User-Agent": agent})
    assert response.status_code == 302
    return str(response.headers["Location"])


def test_a_visitor_always_lands_the_same_way_and_only_the_discount_differs(
    client: FlaskClient, session: Session, store: Store
) -> None:
    # given a holdout of 30 % on the campaign
    link = _holdout_link(session, store, 3000)
    agents = [f"{BROWSER} visitor/{n}" for n in range(60)]
    # when each visitor follows the link three times
    _location(client, link.slug, agents[0])  # the cache picks up the new test
    seen = {agent: [_location(client, link.slug, agent) for _ in range(3)] for agent in agents}
    # then every visitor got the same kind of landing each time
    for locations in seen.values():
        assert len({"discount=" in location for location in locations}) == 1
    held = [agent for agent, locations in seen.items() if "discount=" not in locations[0]]
    assert 5 <= len(held) <= 35
    # and held-out landings keep every tracking parameter; only the code is gone
    sample_held, sample_treated = (
        seen[held[0]][0],
        next(locations[0] for agent, locations in seen.items() if agent not in held),
    )
    strip = lambda url: CLICK.sub("tm_click=X", url).replace("&discount=AVA10", "")  # noqa: E731
    assert strip(sample_held) == strip(sample_treated)
    assert sample_treated.endswith("&discount=AVA10")


def test_links_of_other_campaigns_never_hold_anyone_out(
    client: FlaskClient, session: Session, store: Store
) -> None:
    _holdout_link(session, store, 5000)
    plain = create_link(
        session, store.shop.id, store.creator.id, discount_code_id=store.code.id
    )  # always-on, no campaign
    session.commit()
    for n in range(40):
        assert "discount=AVA10" in _location(client, plain.slug, f"{BROWSER} v/{n}")


def _checkout(client: FlaskClient, location: str) -> None:
    click = CLICK.search(location)
    assert click is not None
    data = {"product_id": "101", "quantity": "1", "tm_click": click[1], "landing": location}
    if "discount=AVA10" in location:
        data["discount"] = "AVA10"
    response = client.post("/sandbox/mugs.example/checkout", data=data)
    assert response.status_code == 200


def test_a_held_out_visitors_order_is_attributed_to_the_creator_like_any_other(
    client: FlaskClient, session: Session, store: Store, run_jobs: Callable[[], int]
) -> None:
    # given one held-out and one treated visitor of the same link
    link = _holdout_link(session, store, 5000)
    _location(client, link.slug, BROWSER)
    landings: dict[bool, str] = {}
    for n in range(50):
        location = _location(client, link.slug, f"{BROWSER} buyer/{n}")
        landings.setdefault("discount=" not in location, location)
        if len(landings) == 2:
            break
    flush_clicks()  # the periodic flush moves the spooled clicks into the database
    # when both buy what the page offered them
    for location in landings.values():
        _checkout(client, location)
    run_jobs()
    # then both orders are the creator's, in the campaign; the holdout leaves no trace
    rows: list[Any] = session.execute(
        select(Order.click_uid, Attribution.creator_id, Attribution.campaign_id, Attribution)
        .join(Attribution, Attribution.order_id == Order.id)
        .order_by(Order.id)
    ).all()
    assert len(rows) == 2
    assert rows[0][1] == rows[1][1] == store.creator.id
    assert rows[0][2] == rows[1][2] == store.campaign.id
    methods = {row[3].method for row in rows}
    assert methods == {"code", "click"}  # the treated visitor used the code, the other the click
    for row in rows:
        assert "holdout" not in str(row[3].evidence).lower()
