"""Results through the service the pages use: thin-data warnings, and a holdout read from
clicks and orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from plugin.demo.lift_store import OrderWriter, write_link_visits
from plugin.services import lift
from plugin.services.lift_results import lift_result
from tests.lift.conftest import Campaign

LAUNCH = datetime(2026, 3, 2, tzinfo=UTC)


def test_a_test_without_data_warns_instead_of_guessing(
    session: Session, campaign: Campaign
) -> None:
    # (seed 1 draws go-live days 0, 4, 23 and 26 for the 4 waves)
    values = {"campaign_id": campaign.store.campaign.id, "design": "staggered", "seed": 1}
    test = lift.create_test(campaign.tenant, values)
    lift.launch(campaign.tenant, test, now=LAUNCH)
    assert sorted(row.day for row in lift.assignments(campaign.tenant, test.id)) == [0, 4, 23, 26]
    result = lift_result(session, test, now=LAUNCH + timedelta(days=3))
    assert result.campaign is not None
    assert not result.campaign.incremental_orders.bounded
    assert result.campaign.sentence == "No orders are credited to the campaign's creators yet."
    assert result.warnings == [
        "Fewer than 2 go-live dates have passed: nothing to compare yet.",
        "Only 0 attributed orders so far: too few to say anything yet (wait for at least 20).",
        "Too thin to say anything yet: too few of the creators have sold for the lottery's "
        "schedules to differ (the smallest chance the test can report is 100%, above the 2.5 % "
        "each side needs).",
    ]


def test_a_holdout_result_from_clicks_and_orders(session: Session, campaign: Campaign) -> None:
    # given a 20 % holdout and 4,000 visitors converting at 3 % held out, 6 % with the discount
    test = lift.create_test(
        campaign.tenant,
        # a fixed seed: the arms (a hash of seed and visitor) and so the interval are the same
        # every run, instead of missing the true 3 % in about one run of twenty
        {
            "campaign_id": campaign.store.campaign.id,
            "design": "holdout",
            "holdout_bps": 2000,
            "seed": 20261203,
        },
    )
    lift.launch(campaign.tenant, test, now=LAUNCH)
    treated, held = write_link_visits(
        session,
        OrderWriter(session, campaign.store.shop.id),
        np.random.default_rng(3),
        test_id=test.id,
        seed=test.seed,
        holdout_bps=2000,
        links={c.id: campaign.links[c.id].id for c in campaign.creators},
        campaign_id=campaign.store.campaign.id,
        start=LAUNCH,
        days=14,
        visitors=4000,
        holdout_rate=0.03,
        treated_rate=0.06,
    )
    # when
    result = lift_result(session, test, now=LAUNCH + timedelta(days=14))
    # then the arms are the redirect's own draw, and the lift is found with its interval
    assert result.conversion is not None
    assert (result.conversion["treated_visitors"], result.conversion["holdout_visitors"]) == (
        treated,
        held,
    )
    difference = result.conversion["difference"]
    assert difference.low > 0
    assert difference.covers(0.03)
    assert result.campaign is not None
    assert result.campaign.incremental_orders.estimate == difference.estimate * treated
    assert len(result.creators) == 4
    assert result.warnings == []
