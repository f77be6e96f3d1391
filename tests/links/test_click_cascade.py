"""Clicks have no foreign key (plugin.models.Click): a deleted link's clicks go with it all the
same, and a flush racing the deletion of a link leaves no click of it behind."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from plugin.models import Click, ReferralLink, Shop
from plugin.services.click_flush import store_click_lines
from plugin.services.clicks import new_click_uid
from plugin.services.links import create_link
from plugin.services.privacy import redact_shop
from tests.engine.factories import make_creator, make_shop
from tests.links.conftest import Store, click_count
from workers.jobs.clicks import flush_clicks

# Long enough for a statement that does not wait on a lock to have finished.
BLOCKED_FOR = 0.5


def test_deleting_a_link_deletes_its_clicks_and_no_other(
    session: Session, follow: Callable[..., Any], link: ReferralLink, store: Store
) -> None:
    # given clicks through two links of the shop
    other = create_link(session, store.shop.id, store.creator.id, target_path="/products/cup")
    session.commit()
    for slug in (link.slug, link.slug, other.slug):
        follow(slug)
    assert flush_clicks() == 3
    # when
    session.execute(delete(ReferralLink).where(ReferralLink.id == link.id))
    # then
    assert session.scalars(select(Click.link_id)).all() == [other.id]


def test_erasing_a_shop_deletes_its_clicks_through_its_links(
    session: Session, follow: Callable[..., Any], link: ReferralLink, store: Store
) -> None:
    # given a click through the shop's link
    follow(link.slug)
    assert flush_clicks() == 1
    # when the shop is erased: its links go by their own foreign key's cascade
    assert redact_shop(session, store.shop.id, keep_event_id=None, export_root=None)
    # then
    assert click_count(session) == 0


@pytest.fixture
def committed_link(postgres_engine: Engine) -> Iterator[ReferralLink]:
    """A link committed for real (the race needs two transactions); its shop erased afterwards."""
    factory = sessionmaker(bind=postgres_engine, expire_on_commit=False)
    with factory() as session:
        shop = make_shop(session)
        link = create_link(session, shop.id, make_creator(session, shop).id, target_path="/p")
        session.commit()
    yield link
    with factory() as session:
        session.execute(delete(Shop).where(Shop.id == link.shop_id))
        session.commit()


def _line(link: ReferralLink) -> bytes:
    record = {
        "click_uid": new_click_uid(),
        "shop_id": link.shop_id,
        "link_id": link.id,
        "creator_id": link.creator_id,
        "occurred_at": time.time(),
        "visitor_hash": "v",
        "referrer_host": None,
    }
    return json.dumps(record).encode() + b"\n"


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(work()), daemon=True)
    thread.start()
    return thread, results


def _clicks_of(engine: Engine, link: ReferralLink) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(Click).where(Click.link_id == link.id)
        return int(session.scalar(query) or 0)


@pytest.mark.postgres
def test_a_link_deleted_during_a_flush_waits_for_it_and_then_takes_its_clicks(
    postgres_engine: Engine, committed_link: ReferralLink
) -> None:
    # given a batch stored through the link, not yet committed
    with Session(postgres_engine) as flush:
        assert store_click_lines(flush, [_line(committed_link)]) == 1

        def delete_link() -> None:
            with Session(postgres_engine) as merchant, merchant.begin():
                merchant.execute(delete(ReferralLink).where(ReferralLink.id == committed_link.id))

        # when the link is deleted meanwhile
        deleting, _ = _in_thread(delete_link)
        deleting.join(BLOCKED_FOR)
        # then the deletion waits for the batch
        assert deleting.is_alive()
        flush.commit()
    deleting.join(10)
    assert not deleting.is_alive()
    # and its cascade took the batch's click: none is left without its link
    assert _clicks_of(postgres_engine, committed_link) == 0


@pytest.mark.postgres
def test_a_flush_waits_for_a_link_being_deleted_and_drops_its_clicks(
    postgres_engine: Engine, committed_link: ReferralLink
) -> None:
    # given the link being deleted, not yet committed
    with Session(postgres_engine) as merchant:
        merchant.execute(delete(ReferralLink).where(ReferralLink.id == committed_link.id))

        def flush() -> int:
            with Session(postgres_engine) as session, session.begin():
                return store_click_lines(session, [_line(committed_link)])

        # when a batch with a click through it is flushed meanwhile
        flushing, stored = _in_thread(flush)
        flushing.join(BLOCKED_FOR)
        # then the flush waits for the deletion
        assert flushing.is_alive()
        merchant.commit()
    flushing.join(10)
    # and stores nothing for the deleted link
    assert stored == [0]
    assert _clicks_of(postgres_engine, committed_link) == 0
