"""Two workers on one reward, or one sprint, at once on PostgreSQL: one wins, once.

The second worker is held at the exact point of contention (waiting on the first one's row lock,
seen in pg_stat_activity) before the first commits, so each race is deterministic.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session

from plugin.models import LedgerEntry, Shop, utcnow
from plugin.models.ugc import Reward
from plugin.services import ugc
from plugin.services.rewards import LEASE, claim_reward
from plugin.services.sprints import settle_sprint
from plugin.tenancy import Tenant
from tests.admin.factories import make_creator, make_shop
from tests.payouts.test_concurrency_pg import wait_until_blocked
from tests.rewards.factories import make_sprint, paid_order
from tests.ugc.factories import image_media

pytestmark = pytest.mark.postgres


@pytest.fixture
def committed(postgres_engine: Engine) -> Iterator[dict[str, Any]]:
    now = utcnow()
    with Session(postgres_engine, expire_on_commit=False) as session:
        shop = make_shop(session, "race-rewards.example")
        post = ugc.create_post(
            Tenant(session, shop.id),
            source="try_and_tag",
            media=image_media(),
            author_handle="lena",
        )
        post.moderation_status = "approved"
        session.add(Reward(shop_id=shop.id, ugc_post_id=post.id, status="pending"))
        anna = make_creator(session, shop, "anna")
        sprint = make_sprint(session, shop, now - timedelta(days=7), now - timedelta(hours=2))
        paid_order(session, shop, anna, now - timedelta(days=1))
        session.commit()
        ids = {"shop": shop.id, "post": post.id, "sprint": sprint.id, "anna": anna.id}
    yield ids
    with Session(postgres_engine) as session:
        session.execute(delete(Shop).where(Shop.id == ids["shop"]))
        session.commit()


def race(engine: Engine, first: Session, second: Callable[[Session], Any]) -> Any:
    """Run `second` in its own session while `first` holds its locks; then commit `first`."""
    results: queue.Queue[Any] = queue.Queue()

    def run() -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                results.put(session.execute(text("SELECT pg_backend_pid()")).scalar())
                outcome = second(session)
                session.commit()
                results.put(outcome)
        except Exception as exc:
            results.put(exc)

    worker = threading.Thread(target=run)
    worker.start()
    wait_until_blocked(engine, results.get(timeout=30))
    first.commit()
    first.close()
    worker.join(timeout=60)
    return results.get(timeout=1)


def test_two_workers_claiming_one_reward_at_once_call_the_store_once(
    postgres_engine: Engine, committed: dict[str, Any]
) -> None:
    # given the first worker has claimed the reward but not committed yet
    now = utcnow()
    first = Session(postgres_engine, expire_on_commit=False)
    won = claim_reward(first, committed["post"], now)
    assert won is not None
    # when the second worker claims it too
    lost = race(postgres_engine, first, lambda s: claim_reward(s, committed["post"], now))
    # then only the first holds it, and the attempt was counted once
    assert lost is None
    with Session(postgres_engine) as check:
        reward = check.scalars(select(Reward).where(Reward.ugc_post_id == committed["post"])).one()
        assert (reward.status, reward.attempts, reward.lease_until) == ("pending", 1, now + LEASE)


def test_two_settlements_of_one_sprint_at_once_credit_once(
    postgres_engine: Engine, committed: dict[str, Any]
) -> None:
    # given the first worker has settled but not committed yet
    first = Session(postgres_engine, expire_on_commit=False)
    settled = settle_sprint(first, committed["sprint"])
    assert settled is not None
    # when the second worker settles the same sprint
    again = race(postgres_engine, first, lambda s: settle_sprint(s, committed["sprint"]))
    # then it found the sprint settled, and the creator holds one entry
    assert again is None
    with Session(postgres_engine) as check:
        entries = check.scalars(
            select(LedgerEntry).where(LedgerEntry.shop_id == committed["shop"])
        ).all()
        assert [(e.creator_id, e.kind, e.amount_minor) for e in entries] == [
            (committed["anna"], "bonus", 50)
        ]
