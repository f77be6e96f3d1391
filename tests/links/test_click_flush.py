"""The click spool and its flush: replays never double count, nothing is lost on the way."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from plugin.db import get_db
from plugin.models import Click, ReferralLink
from plugin.services.click_flush import _host_lock, flush_spool, store_clicks
from plugin.services.clicks import spool_for
from plugin.spool import Spool
from plugin.web.links import tracking
from tests.links.conftest import click_count
from workers.jobs.clicks import (
    FLUSH_NICENESS,
    STALE_TICK_SECONDS,
    at_low_priority,
    flush_clicks,
)
from workers.runtime import set_worker_app


def _spooled_segments(spool: Spool) -> list[Path]:
    spool.close()
    return sorted(spool.directory.glob("*.ready"))


def test_replaying_the_same_segment_twice_stores_each_click_once(
    session: Session, follow: Callable[..., Any], link: ReferralLink, tmp_path: Path
) -> None:
    # given two clicks, and a copy of their segment as a crash before its deletion would leave
    for _ in range(2):
        follow(link.slug)
    spool = tracking().recorder.spool
    (segment,) = _spooled_segments(spool)
    shutil.copy(segment, tmp_path / "copy")
    # when the flush runs, then finds the same segment again
    first = flush_clicks()
    shutil.copy(tmp_path / "copy", segment.with_suffix(".claimed"))
    second = flush_clicks()
    # then
    assert (first, second) == (2, 0)
    assert click_count(session) == 2
    assert spool.pending_segments() == 0


def test_a_click_whose_link_was_deleted_is_dropped_and_the_rest_stored(
    session: Session, follow: Callable[..., Any], link: ReferralLink
) -> None:
    # given a spooled click for the link and one for a link deleted since
    follow(link.slug)
    tracking().recorder.spool.append(
        {
            "click_uid": "f" * 32,
            "shop_id": link.shop_id,
            "link_id": link.id + 999,
            "creator_id": link.creator_id,
            "occurred_at": time.time(),
            "visitor_hash": "v",
        }
    )
    tracking().recorder.spool.append({"click_uid": "malformed, no link"})
    # when
    stored = flush_clicks()
    # then
    assert stored == 1
    assert [c.link_id for c in session.query(Click)] == [link.id]
    assert tracking().recorder.spool.pending_segments() == 0


def test_stored_clicks_take_tenant_and_creator_from_the_link_not_the_record(
    session: Session, link: ReferralLink
) -> None:
    # when a record claims another shop and creator for the link
    stored = store_clicks(
        session,
        [
            {
                "click_uid": "a" * 32,
                "shop_id": 99999,
                "link_id": link.id,
                "creator_id": 88888,
                "occurred_at": 1_764_000_000.5,
                "visitor_hash": "h",
                "referrer_host": None,
            }
        ],
    )
    # then
    (click,) = session.query(Click).all()
    assert stored == 1
    assert (click.shop_id, click.creator_id) == (link.shop_id, link.creator_id)
    assert click.occurred_at.isoformat() == "2025-11-24T16:00:00.500000+00:00"


def test_a_second_flusher_on_the_host_waits_its_turn(
    app: Any, follow: Callable[..., Any], link: ReferralLink, session: Session
) -> None:
    # given a click, and another process holding the host's flush lock
    follow(link.slug)
    spool = tracking().recorder.spool
    with _host_lock(Spool(spool.directory.parent, spool.name)) as held:
        assert held
        # when
        during = flush_spool(spool, get_db().transaction)
    after = flush_spool(spool, get_db().transaction)
    # then
    assert (during, after) == (0, 1)
    assert click_count(session) == 1


def test_a_writer_keeps_spooling_after_another_process_sealed_its_idle_segment(
    tmp_path: Path,
) -> None:
    # given a writer whose segment went idle long enough to look abandoned
    writer = Spool(tmp_path, "clicks", fsync=False, segment_seconds=0.0)
    writer.append({"n": 1})
    (segment,) = (tmp_path / "clicks").glob("*.open")
    stale = time.time() - 60
    os.utime(segment, (stale, stale))
    replayed: list[dict[str, Any]] = []
    # when another process replays (sealing and consuming that segment), then the writer appends
    Spool(tmp_path, "clicks").replay(replayed.extend)
    writer.append({"n": 2})
    Spool(tmp_path, "clicks").replay(replayed.extend, include_open_older_than=0.0)
    writer.close()
    # then nothing was lost and the writer never failed
    assert replayed == [{"n": 1}, {"n": 2}]


def test_each_process_gets_its_own_spool_object(tmp_path: Path) -> None:
    assert spool_for(tmp_path) is spool_for(tmp_path)
    assert spool_for(tmp_path).fsync is False


def test_the_click_flush_is_a_periodic_job_run_every_few_seconds() -> None:
    from workers.registry import spec_for
    from workers.schedule import PERIODIC

    assert spec_for(flush_clicks).queue == "periodic"
    (entry,) = [p for p in PERIODIC if p.job == "workers.jobs.clicks.flush_clicks"]
    assert entry.every_seconds <= 10


def test_click_ids_are_32_hex_never_repeat_and_grow_with_time() -> None:
    from plugin.services.clicks import new_click_uid

    # when ids are made over a few milliseconds (spanning many refills of the random pool)
    before_ms = int(time.time() * 1000)
    uids = [new_click_uid() for _ in range(5000)]
    time.sleep(0.003)
    later = new_click_uid()
    after_ms = int(time.time() * 1000)
    # then each is 32 hex characters and unique, and its first 48 bits are its millisecond
    assert all(re.fullmatch(r"[0-9a-f]{32}", uid) for uid in uids)
    assert len(set(uids)) == 5000
    assert all(before_ms <= int(uid[:12], 16) <= after_ms for uid in uids)
    # so the index on them grows at its right edge: a later id sorts after the earlier ones
    assert later > max(uids)
    # and the 80 random bits differ even within one millisecond
    assert len({uid[12:] for uid in uids}) == 5000


def test_the_flush_runs_at_a_lower_priority_and_leaves_the_worker_process_as_it_was() -> None:
    # given this process's priority
    before = os.getpriority(os.PRIO_PROCESS, 0)
    # when work runs through the flush's low-priority runner
    seen = at_low_priority(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    # then the work ran at the flush's nice value and the caller's priority is unchanged
    assert seen == FLUSH_NICENESS
    assert os.getpriority(os.PRIO_PROCESS, 0) == before


def test_a_failure_in_the_low_priority_flush_reaches_the_caller() -> None:
    def fail() -> int:
        raise OperationalError("INSERT", {}, Exception("database is down"))

    with pytest.raises(OperationalError):
        at_low_priority(fail)


def test_a_flush_tick_that_waited_in_the_queue_behind_a_long_flush_is_skipped(
    app: Any,
    follow: Callable[..., Any],
    link: ReferralLink,
    session: Session,
    redis_connection: Any,
) -> None:
    # given a spooled click, and a flush tick that waited in RQ's periodic queue longer than a
    # tick may (as ticks the cron enqueued during a long flush do)
    from datetime import UTC, datetime, timedelta

    from rq import Queue, SimpleWorker

    follow(link.slug)
    queue = Queue("periodic", connection=redis_connection)
    waited = queue.enqueue("workers.runtime.run_job", "workers.jobs.clicks.flush_clicks")
    waited.enqueued_at = datetime.now(UTC) - timedelta(seconds=STALE_TICK_SECONDS + 1)
    waited.save()
    worker = SimpleWorker([queue], connection=redis_connection)
    set_worker_app(app)
    try:
        # when a worker runs it
        worker.work(burst=True)
        # then it did nothing
        assert click_count(session) == 0
        # and the next, fresh tick flushes the click
        queue.enqueue("workers.runtime.run_job", "workers.jobs.clicks.flush_clicks")
        worker.work(burst=True)
        assert click_count(session) == 1
    finally:
        set_worker_app(None)


def test_a_click_is_stored_at_the_microsecond_the_redirect_read_the_clock(
    session: Session, link: ReferralLink
) -> None:
    # given a click spooled at a known instant (the spool writes it as integer microseconds)
    now_ns = 1_764_950_400_123_456_789
    state = tracking()
    resolved = state.resolver.resolve(link.slug)
    assert resolved is not None
    visitor = state.recorder.visitor("10.0.0.1", "Mozilla/5.0")
    assert state.recorder.record(resolved, "ab" * 16, visitor=visitor, referrer=None, now_ns=now_ns)
    # when
    assert flush_clicks() == 1
    # then the database holds that instant to the microsecond, and the hash the redirect made
    click = session.query(Click).one()
    stored = click.occurred_at
    moment = stored if stored.tzinfo else stored.replace(tzinfo=UTC)
    assert moment == datetime(2025, 12, 5, 16, 0, 0, 123456, tzinfo=UTC)
    assert click.visitor_hash == visitor
