"""A staggered launch keeps later waves' codes out of the store and their links off until their
date; the periodic job switches them on (through the code service and the connector), once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from plugin.extensions import connectors
from plugin.models import DiscountCode, utcnow
from plugin.services import creators as creator_service
from plugin.services import lift
from plugin.web.links import tracking
from tests.lift.conftest import Campaign
from tests.links.conftest import BROWSER
from workers.jobs import lift as lift_jobs
from workers.schedule import PERIODIC


def _codes_in_store(app: Flask, domain: str) -> dict[str, str]:
    return dict(connectors(app).get("sandbox")._codes.get(domain, {}))  # type: ignore[attr-defined]


def _status(client: FlaskClient, slug: str) -> int:
    return client.get(f"/r/{slug}", headers={"User-Agent": BROWSER}).status_code


def test_later_waves_are_inactive_in_the_store_until_their_date(
    app: Flask,
    client: FlaskClient,
    session: Session,
    campaign: Campaign,
    run_jobs: Callable[[], int],
) -> None:
    # given a launched staggered test with 2 waves over 14 days, whose seed drew the launch day
    # for the first wave and day 11 for the second
    tenant = campaign.tenant
    test = lift.create_test(
        tenant,
        {"campaign_id": campaign.store.campaign.id, "design": "staggered", "waves": 2, "seed": 13},
    )
    launched = utcnow()
    lift.launch(tenant, test, now=launched)
    session.commit()
    rows = lift.assignments(tenant, test.id)
    assert {(row.wave, row.day) for row in rows} == {(0, 0), (1, 11)}
    waves = {row.creator_id: row.wave for row in rows}
    early = [c for c in campaign.creators if waves[c.id] == 0]
    late = [c for c in campaign.creators if waves[c.id] == 1]
    assert len(early) == len(late) == 2
    date = launched + timedelta(days=11)
    # when every creator gets a campaign code (the merchant issues them after launch)
    codes: dict[int, int] = {}
    for creator in campaign.creators:
        codes[creator.id] = creator_service.create_discount_code(
            tenant,
            {
                "creator_id": creator.id,
                "agreement_id": campaign.agreements[creator.id].id,
                "code": f"{creator.handle.upper()}15",
            },
        ).id
    session.commit()
    run_jobs()
    # then only the first wave's codes reached the store; the later ones wait, dated
    domain = campaign.store.shop.domain
    in_store = _codes_in_store(app, domain)
    assert {c.handle.lower() + "15" for c in early} <= set(in_store)
    assert not {c.handle.lower() + "15" for c in late} & set(in_store)
    for creator in late:
        code = session.get(DiscountCode, codes[creator.id])
        assert code is not None
        assert (code.status, code.starts_at) == ("scheduled", date)
    # and only the first wave's links redirect
    for creator in campaign.creators:
        expected = 302 if creator in early else 404
        assert _status(client, campaign.links[creator.id].slug) == expected
    # when the periodic job runs before the date, nothing changes
    assert lift_jobs.activate_lift_waves() == 0
    # and when it runs after the date (twice), the late wave goes live exactly once
    assert lift.activate_due(session, date - timedelta(seconds=1)) == 0
    assert lift.activate_due(session, date) == 2
    session.commit()
    assert lift.activate_due(session, date + timedelta(days=1)) == 0
    session.commit()
    run_jobs()
    run_jobs()
    in_store = _codes_in_store(app, domain)
    assert {c.handle.lower() + "15" for c in campaign.creators} <= set(in_store)
    assert len(in_store) == len(campaign.creators)  # each created once, by the connector
    tracking(app).resolver.expire()  # the cache serves the stale entry once while reloading
    for creator in campaign.creators:
        _status(client, campaign.links[creator.id].slug)
        assert _status(client, campaign.links[creator.id].slug) == 302


def test_the_activation_job_is_declared_periodic() -> None:
    assert "workers.jobs.lift.activate_lift_waves" in {p.job for p in PERIODIC}


def test_a_link_created_for_a_waiting_creator_stays_off(
    session: Session, campaign: Campaign
) -> None:
    # given
    tenant = campaign.tenant
    test = lift.create_test(
        tenant,
        {"campaign_id": campaign.store.campaign.id, "design": "staggered", "waves": 2, "seed": 13},
    )
    lift.launch(tenant, test, now=utcnow())
    session.commit()
    late = next(r for r in lift.assignments(tenant, test.id) if r.day > 0)
    # when
    from plugin.services.links import create_link

    link = create_link(
        session,
        tenant.shop_id,
        late.creator_id,
        target_path="/",
        campaign_id=campaign.store.campaign.id,
    )
    session.commit()
    # then
    assert link.active is False
    assert str(link.id) in late.held_link_ids
    # and ending the test switches it on
    lift.end(tenant, test)
    session.commit()
    session.refresh(link)
    assert link.active is True
