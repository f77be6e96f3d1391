"""The click flush stores every spooled click exactly once, with its rollup cell, whatever
happens to a flusher: killed mid-batch, killed between its commit and the spool's ack, or run
again over records it already stored. Real commits, on PostgreSQL and SQLite."""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from plugin.domain import hll
from plugin.models import Click, ClickDay, Creator, ReferralLink, Shop
from plugin.services.click_flush import Transaction, flush_spool
from plugin.services.clicks import VisitorHasher, new_click_uid
from plugin.spool import Spool
from tests.engine.factories import make_creator, make_link, make_shop

BATCH = 10
CLICKS = 50
VISITORS = 7


@dataclass(frozen=True)
class Link:
    id: int
    shop_id: int
    creator_id: int


@pytest.fixture
def committed_link(engine: Engine) -> Iterator[Link]:
    """A shop, creator and link committed for real; deleted (with their clicks) afterwards."""
    with Session(engine) as session:
        shop = make_shop(session, timezone="America/Santiago")
        link = make_link(session, shop, make_creator(session, shop))
        committed = Link(link.id, shop.id, link.creator_id)
        session.commit()
    yield committed
    with Session(engine) as session:
        for model in (Click, ClickDay, ReferralLink, Creator):
            session.execute(delete(model).where(model.shop_id == committed.shop_id))
        session.execute(delete(Shop).where(Shop.id == committed.shop_id))
        session.commit()


def spool_clicks(directory: Path, link: Link) -> list[str]:
    """CLICKS clicks from VISITORS visitors, one segment each (so batches are exactly BATCH)."""
    spool = Spool(directory, "clicks", fsync=False, segment_seconds=0.0)
    visitor = VisitorHasher(b"key")
    uids = [new_click_uid() for _ in range(CLICKS)]
    for number, uid in enumerate(uids):
        spool.append(
            {
                "click_uid": uid,
                "shop_id": link.shop_id,
                "link_id": link.id,
                "creator_id": link.creator_id,
                "occurred_at": time.time(),
                "visitor_hash": visitor(f"10.0.0.{number % VISITORS}", "phone"),
                "referrer_host": None,
            }
        )
    spool.close()
    return uids


def transactions(
    engine: Engine, *, kill_in_batch: int = 0, after_commit: bool = False
) -> Transaction:
    """The flush's transaction factory; with `kill_in_batch`, SIGKILLs this process in that
    batch, once its statements ran: before its commit, or after it (before the spool's ack)."""
    batches = itertools.count(1)

    @contextmanager
    def transaction() -> Iterator[Session]:
        batch = next(batches)
        with Session(engine) as session:
            with session.begin():
                yield session
                if batch == kill_in_batch and not after_commit:
                    os.kill(os.getpid(), signal.SIGKILL)
            if batch == kill_in_batch and after_commit:
                os.kill(os.getpid(), signal.SIGKILL)

    return transaction


def flush_in_a_process_killed_in_batch(
    engine: Engine, spool_dir: Path, *, after_commit: bool
) -> None:
    pid = os.fork()
    if pid == 0:  # the flusher: a process of its own, with connections of its own
        try:
            engine.dispose(close=False)
            flush_spool(
                Spool(spool_dir, "clicks", fsync=False),
                transactions(engine, kill_in_batch=3, after_commit=after_commit),
                batch_size=BATCH,
                stale_after=0.0,
            )
        finally:
            os._exit(0)  # only reached if the kill did not happen: the assertion below fails
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) == signal.SIGKILL


def stored_uids(engine: Engine, link: Link) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(Click.click_uid).where(Click.link_id == link.id)))


def cell_totals(engine: Engine, link: Link) -> tuple[int, int]:
    """(clicks, unique visitors) in the link's rollup cells."""
    with Session(engine) as session:
        rows = session.execute(
            select(ClickDay.clicks, ClickDay.visitors_sketch).where(ClickDay.link_id == link.id)
        ).all()
    registers: dict[int, int] = {}
    for _, sketch in rows:
        hll.merge(registers, hll.decode(sketch))
    return sum(clicks for clicks, _ in rows), hll.estimate_registers(registers)


@pytest.mark.parametrize("after_commit", [False, True], ids=["before-commit", "after-commit"])
def test_a_flusher_killed_mid_batch_loses_no_click_and_the_next_flush_stores_none_twice(
    engine: Engine, committed_link: Link, tmp_path: Path, after_commit: bool
) -> None:
    # given five batches of spooled clicks
    uids = spool_clicks(tmp_path, committed_link)
    # when a flusher is killed in its third batch, before or after that batch's commit
    flush_in_a_process_killed_in_batch(engine, tmp_path, after_commit=after_commit)
    committed = len(stored_uids(engine, committed_link))
    # and the next flush runs
    stored = flush_spool(
        Spool(tmp_path, "clicks", fsync=False), transactions(engine), batch_size=BATCH
    )
    # then every click is stored once and counted once in its rollup cell
    assert committed == (3 if after_commit else 2) * BATCH
    assert stored == CLICKS - committed
    assert stored_uids(engine, committed_link) == sorted(uids)
    assert cell_totals(engine, committed_link) == (CLICKS, VISITORS)
    assert Spool(tmp_path, "clicks").pending_segments() == 0


def test_a_flush_run_again_over_stored_records_stores_and_counts_nothing(
    engine: Engine, committed_link: Link, tmp_path: Path
) -> None:
    # given every click flushed once
    spool_clicks(tmp_path, committed_link)
    segments = {path.name: path.read_bytes() for path in (tmp_path / "clicks").glob("*.ready")}
    first = flush_spool(Spool(tmp_path, "clicks", fsync=False), transactions(engine))
    # when the same records reach the flush again (all in one batch, and one batch each)
    for name, content in segments.items():
        (tmp_path / "clicks" / name).write_bytes(content)
    again = flush_spool(Spool(tmp_path, "clicks", fsync=False), transactions(engine))
    for name, content in segments.items():
        (tmp_path / "clicks" / name).write_bytes(content)
    once_more = flush_spool(
        Spool(tmp_path, "clicks", fsync=False), transactions(engine), batch_size=1
    )
    # then
    assert (first, again, once_more) == (CLICKS, 0, 0)
    assert cell_totals(engine, committed_link) == (CLICKS, VISITORS)


def test_a_flush_takes_the_segments_sealed_while_it_runs(
    engine: Engine, committed_link: Link, tmp_path: Path
) -> None:
    # given spooled clicks, and a writer that seals more of them during the flush's first batch
    spool_clicks(tmp_path, committed_link)
    first_batch = transactions(engine)
    late: list[list[str]] = []

    @contextmanager
    def transaction() -> Iterator[Session]:
        with first_batch() as session:
            if not late:
                late.append(spool_clicks(tmp_path, committed_link))
            yield session

    # when
    stored = flush_spool(Spool(tmp_path, "clicks", fsync=False), transaction, batch_size=CLICKS)
    # then one flush stored both
    assert stored == 2 * CLICKS
    assert Spool(tmp_path, "clicks").pending_segments() == 0
