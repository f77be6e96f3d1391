"""Randomization is seeded, recorded at launch, reproducible, and cannot change afterwards."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from plugin.domain.lift_schedule import assign
from plugin.services import lift
from plugin.services.creators import InvalidTransition
from tests.lift.conftest import Campaign

LAUNCH = datetime(2026, 3, 2, tzinfo=UTC)


def test_the_same_seed_and_creators_always_give_the_same_schedule() -> None:
    ids = [11, 5, 42, 7, 19, 23, 3, 8]
    first = assign(ids, 3, 21, seed=2024)
    assert first == assign(list(reversed(ids)), 3, 21, seed=2024)  # input order is irrelevant
    waves = Counter(wave for wave, _ in first.values())
    assert sorted(waves.values()) == [2, 3, 3]  # balanced waves
    # every creator of a wave shares its date, the dates follow the wave order, within 21 days
    dates = {wave: {day for w, day in first.values() if w == wave} for wave in waves}
    assert all(len(days) == 1 for days in dates.values())
    ordered = [next(iter(dates[wave])) for wave in sorted(dates)]
    assert ordered == sorted(ordered)
    assert all(0 <= day < 21 for day in ordered)
    others = {tuple(sorted(assign(ids, 3, 21, seed=s).items())) for s in range(20)}
    assert len(others) == 20  # the seed does decide, dates included


def test_launch_records_the_draw_from_the_seed(session: Session, campaign: Campaign) -> None:
    # given
    test = lift.create_test(
        campaign.tenant,
        {"campaign_id": campaign.store.campaign.id, "design": "staggered", "waves": 2, "seed": 77},
    )
    # when
    lift.launch(campaign.tenant, test, now=LAUNCH)
    session.commit()
    # then each creator's wave, day and date are the seed's draw over 2 waves x 7 days
    rows = lift.assignments(campaign.tenant, test.id)
    expected = assign([c.id for c in campaign.creators], 2, 14, 77)
    assert {row.creator_id: (row.wave, row.day) for row in rows} == expected
    assert {row.creator_id: row.starts_at for row in rows} == {
        creator: LAUNCH + timedelta(days=day) for creator, (_wave, day) in expected.items()
    }
    assert (test.seed, test.status, test.launched_at) == (77, "running", LAUNCH)


def test_a_seed_is_drawn_when_none_is_given(campaign: Campaign) -> None:
    values = {"campaign_id": campaign.store.campaign.id, "design": "staggered"}
    test = lift.create_test(campaign.tenant, values)
    assert 0 <= test.seed < 2**48


def test_nothing_can_change_after_launch(session: Session, campaign: Campaign) -> None:
    # given a launched test
    test = lift.create_test(
        campaign.tenant,
        {"campaign_id": campaign.store.campaign.id, "design": "staggered", "waves": 2, "seed": 5},
    )
    lift.launch(campaign.tenant, test, now=LAUNCH)
    session.commit()
    before = [
        (r.creator_id, r.wave, r.day, r.starts_at)
        for r in lift.assignments(campaign.tenant, test.id)
    ]
    # then settings, a second launch and a second test on the campaign are refused
    with pytest.raises(InvalidTransition):
        lift.update_test(campaign.tenant, test, {"waves": 3})
    with pytest.raises(InvalidTransition):
        lift.update_test(campaign.tenant, test, {"wave_days": 3})
    with pytest.raises(InvalidTransition):
        lift.launch(campaign.tenant, test, now=LAUNCH + timedelta(days=1))
    with pytest.raises(Exception, match="already has a lift test"):
        lift.create_test(
            campaign.tenant, {"campaign_id": campaign.store.campaign.id, "design": "holdout"}
        )
    # and activating or ending leaves the draw as it was
    lift.activate_due(session, LAUNCH + timedelta(days=30))
    lift.end(campaign.tenant, test, now=LAUNCH + timedelta(days=31))
    session.commit()
    after = [
        (r.creator_id, r.wave, r.day, r.starts_at)
        for r in lift.assignments(campaign.tenant, test.id)
    ]
    assert after == before
    assert test.seed == 5
