"""The click flush: spooled clicks (plugin.services.clicks) into `clicks` rows and their daily
rollup cells, in batches, exactly once.

Exactly once, whoever flushes and whenever one dies:
- a spool segment is claimed by renaming it and deleted only after every record in it went
  through a committed batch, so a flusher killed mid-batch leaves its segment claimed and the
  next flush replays it first (plugin.spool);
- each batch is one transaction: the clicks (INSERT … ON CONFLICT (click_uid) DO NOTHING) and
  the rollup increments of exactly the rows that INSERT reported as new, so a replayed record
  stores nothing and counts nothing, and a batch that dies stores and counts nothing;
- an advisory file lock keeps one flush per host at a time, so two flushers never replay the
  same claimed segment at once.

Who flushes: the periodic job `workers.jobs.clicks.flush_clicks`, run by the worker (the spool
directory must be on a disk that worker sees: same host or a shared volume, as for the webhook
spool); in the embedded mode each serving process runs a `Flusher` thread instead. Web
processes of a deployment with a queue never flush: a flush inside a web worker holds its GIL
in bursts and took the redirect's p99 at 3,000 requests/s from ~1 ms to ~10 ms.

Throughput (PostgreSQL): one statement per batch inserts the batch's JSON lines, which the
database itself unpacks, and hands back (link, time, visitor) of each new row; Python then adds
those to their (shop, local day, link) cells and upserts every cell of the batch in one more
statement. Measured on the 2-core benchmark machine, the insert costs PostgreSQL ~11 µs of CPU
per click in batches of 2,000 (~15 with the foreign key clicks no longer have) and Python ~4,
and the production flush stored a quiet machine's backlog at 74,000-83,000 clicks/s
(benchmarks/redirect_flush.py; 68,000 with the key).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from plugin.models import Click, ReferralLink
from plugin.services import rollups
from plugin.services.click_rollups import ClickGroup, group_clicks
from plugin.spool import Record, Spool

logger = logging.getLogger(__name__)

FLUSH_INTERVAL = 1.0
# Each batch commits once, and a commit waits for a WAL flush (~4 ms on the benchmark VM's disk,
# pg_test_fsync): 2,000 clicks (~40 ms of CPU) make that a small share, while a batch still
# holds its cells' row locks for well under a second.
FLUSH_BATCH = 2000
# A writer's open segment idle this long is sealed by the flush (a writer seals its own only at
# its next click): after a burst, its last second of clicks waits this long, not longer.
# Sealing a segment a writer is still using loses nothing (Spool.append), it only costs a
# segment; a segment older than the writer's segment_seconds takes no more clicks anyway.
STALE_AFTER = 1.5
# A flush keeps taking the segments sealed while it runs, for at most this long: past it, the
# next run continues, so a flush that cannot keep up never holds its queue indefinitely.
FLUSH_BUDGET = 20.0
LOCK_FILE = "flush.lock"

Transaction = Callable[[], AbstractContextManager[Session]]


def _parse(records: list[Record]) -> list[dict[str, Any]]:
    parsed: list[dict[str, Any]] = []
    for record in records:
        try:
            moment = float(record["occurred_at"])
            parsed.append(
                {
                    "click_uid": str(record["click_uid"])[:32],
                    "link_id": int(record["link_id"]),
                    "occurred_at": datetime.fromtimestamp(moment, UTC),
                    "visitor_hash": str(record.get("visitor_hash") or "")[:64],
                    "referrer_host": record.get("referrer_host"),
                    "moment": moment,
                }
            )
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            logger.error("malformed click record dropped from the spool: %r", record)
    return parsed


# PostgreSQL: one statement per batch, the batch's spooled JSON lines passed as one JSON array
# that the database itself unpacks (json_to_recordset), the same text for every batch size.
# Python then neither parses a record nor builds a parameter per click: measured on the 2-core
# benchmark machine, parsing and binding (one array per column) cost ~20 µs of CPU per click,
# as much as the database's whole insert. The join takes tenant and creator from the link row
# itself, never from the spooled record, and drops the clicks of a link deleted since (they are
# not retried). Only the rows actually inserted (a replay inserts none) come back, grouped per
# link and second of their stored time with their visitor hashes (`ClickGroup`): what their
# rollup cells need, in a handful of rows, so Python loops over groups rather than clicks
# (grouping per click in Python was most of the rollups' cost to the flush). A record the
# database cannot read (wrong type, missing field) fails the statement: the batch is then
# stored by `store_clicks`, which checks each record in Python and logs and drops the bad ones.
# Each of the batch's links is locked once (FOR KEY SHARE, as a foreign key's check would lock
# it for every click; clicks have no foreign key, see plugin.models.Click): a link deleted
# meanwhile waits for this batch to commit and its cascade then deletes these clicks too, and a
# link whose deletion committed first is skipped, its clicks with it.
_POSTGRESQL_INSERT_LINES = text(
    "WITH batch AS (SELECT * FROM json_to_recordset(CAST(:records AS json))"
    " AS c(click_uid text, link_id bigint, occurred_at double precision, visitor_hash text,"
    " referrer_host text)),"
    " links AS (SELECT id, shop_id, creator_id FROM referral_links"
    " WHERE id IN (SELECT link_id FROM batch) FOR KEY SHARE),"
    " stored AS (INSERT INTO clicks (click_uid, shop_id, link_id, creator_id, occurred_at,"
    " visitor_hash, referrer_host)"
    " SELECT left(c.click_uid, 32), l.shop_id, c.link_id, l.creator_id,"
    " to_timestamp(c.occurred_at), left(coalesce(c.visitor_hash, ''), 64),"
    " left(c.referrer_host, 255)"
    " FROM batch AS c JOIN links AS l ON l.id = c.link_id"
    " ON CONFLICT (click_uid) DO NOTHING"
    " RETURNING link_id, floor(date_part('epoch', occurred_at)) AS second, visitor_hash)"
    " SELECT link_id, second, count(*), array_agg(visitor_hash) FROM stored"
    " GROUP BY link_id, second"
)
# The same with one array per column, for records already parsed in Python.
_POSTGRESQL_INSERT = text(
    "WITH batch AS (SELECT * FROM unnest(CAST(:click_uid AS varchar[]),"
    " CAST(:link_id AS bigint[]), CAST(:occurred_at AS timestamptz[]),"
    " CAST(:visitor_hash AS varchar[]), CAST(:referrer_host AS varchar[]))"
    " AS c(click_uid, link_id, occurred_at, visitor_hash, referrer_host)),"
    " links AS (SELECT id, shop_id, creator_id FROM referral_links"
    " WHERE id IN (SELECT link_id FROM batch) FOR KEY SHARE)"
    " INSERT INTO clicks (click_uid, shop_id, link_id, creator_id, occurred_at, visitor_hash,"
    " referrer_host)"
    " SELECT c.click_uid, l.shop_id, c.link_id, l.creator_id, c.occurred_at, c.visitor_hash,"
    " c.referrer_host FROM batch AS c JOIN links AS l ON l.id = c.link_id"
    " ON CONFLICT (click_uid) DO NOTHING RETURNING click_uid"
)
_COLUMNS = ("click_uid", "link_id", "occurred_at", "visitor_hash", "referrer_host")


def store_click_lines(session: Session, lines: list[bytes]) -> int:
    """Store a batch of spooled JSON lines and add the new ones to their rollup cells; returns
    how many were new.

    Raises DataError or IntegrityError when a record is malformed (PostgreSQL): the caller
    rolls back and stores the batch with `store_clicks` instead (`parse_click_lines`).
    """
    if not lines:
        return 0
    if session.get_bind().dialect.name != "postgresql":
        return store_clicks(session, parse_click_lines(lines))
    records = b"[" + b",".join(line.rstrip(b"\n") for line in lines) + b"]"
    stored = session.execute(_POSTGRESQL_INSERT_LINES, {"records": records.decode()}).all()
    rollups.add_click_batch(session.connection(), cast(Sequence[ClickGroup], stored))
    return sum(group[2] for group in stored)


def parse_click_lines(lines: list[bytes]) -> list[Record]:
    records: list[Record] = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            logger.error("unreadable click record dropped from the spool: %r", line[:200])
    return records


def _with_owners(session: Session, parsed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SQLite: tenant and creator from the link rows; clicks of deleted links dropped."""
    owners = {
        link_id: (shop_id, creator_id)
        for link_id, shop_id, creator_id in session.execute(
            select(ReferralLink.id, ReferralLink.shop_id, ReferralLink.creator_id).where(
                ReferralLink.id.in_({row["link_id"] for row in parsed})
            )
        )
    }
    return [
        {**row, "shop_id": owners[row["link_id"]][0], "creator_id": owners[row["link_id"]][1]}
        for row in parsed
        if row["link_id"] in owners
    ]


def store_clicks(session: Session, records: list[Record]) -> int:
    """Insert a batch of spooled clicks; returns how many were new (replays insert nothing)."""
    parsed = _parse(records)
    if not parsed:
        return 0
    # RETURNING lists only the rows actually inserted, so replays count 0.
    if session.get_bind().dialect.name == "postgresql":
        columns = {name: [row[name] for row in parsed] for name in _COLUMNS}
        inserted: set[str] = set(session.execute(_POSTGRESQL_INSERT, columns).scalars())
    else:
        rows = _with_owners(session, parsed)
        table = Click.__table__
        statement = (
            sqlite_insert(table)  # type: ignore[arg-type]
            .on_conflict_do_nothing(index_elements=["click_uid"])
            .returning(table.c.click_uid)
        )
        inserted = set(session.execute(statement, rows).scalars()) if rows else set()
    # One row per stored click: a replayed record may sit in the same batch as its original.
    stored = {row["click_uid"]: row for row in parsed if row["click_uid"] in inserted}
    rollups.add_click_batch(
        session.connection(),
        group_clicks(
            (row["link_id"], row["moment"], row["visitor_hash"]) for row in stored.values()
        ),
    )
    return len(inserted)


@contextlib.contextmanager
def _host_lock(spool: Spool, *, wait: bool = False) -> Iterator[bool]:
    """One flush per host at a time: claimed segments are then never replayed twice at once."""
    spool.directory.mkdir(parents=True, exist_ok=True)
    with open(spool.directory / LOCK_FILE, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def flush_spool(
    spool: Spool,
    transaction: Transaction,
    *,
    batch_size: int = FLUSH_BATCH,
    wait: bool = False,
    stale_after: float = STALE_AFTER,
    budget: float = FLUSH_BUDGET,
) -> int:
    """Replay spooled clicks into the database until the spool is empty; returns clicks newly
    stored.

    Segments sealed while the flush runs are taken too, for up to `budget` seconds (then the
    next run carries on). While another flush on this host runs, returns 0 at once, or with
    `wait` waits for it and then flushes what is left (a final drain). Segments other processes
    left open are taken once idle `stale_after` seconds (0 when every writer is known to be
    stopped).
    Raises SQLAlchemyError when the database is unavailable: the batch being written rolls back
    and its segment stays claimed in the spool, replayed first by the next flush.
    """
    stored = 0

    def consume(batch: list[bytes]) -> None:
        nonlocal stored
        try:
            with transaction() as session:
                stored += store_click_lines(session, batch)
        except (DataError, IntegrityError):
            # A malformed record failed the one-statement insert (rolled back): check each one.
            with transaction() as session:
                stored += store_clicks(session, parse_click_lines(batch))

    spool.close()  # seal this process's own segment, so idle segments never wait to go stale
    with _host_lock(spool, wait=wait) as acquired:
        if not acquired:
            return 0
        deadline = time.monotonic() + budget
        while spool.replay_lines(
            consume, batch_size=batch_size, include_open_older_than=stale_after
        ):
            if time.monotonic() >= deadline:
                break
    return stored


class Flusher:
    """A daemon thread running `flush` every `interval` seconds, backing off while it fails."""

    def __init__(self, flush: Callable[[], int], *, interval: float = FLUSH_INTERVAL) -> None:
        self._flush = flush
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tastemaker-clicks", daemon=True)

    def start(self) -> Flusher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        delay = self.interval
        while not self._stop.wait(delay):
            try:
                self._flush()
            except (SQLAlchemyError, OSError) as exc:
                delay = min(delay * 2, 30.0)
                logger.warning("click flush failed, retrying in %.0fs: %s", delay, exc)
                continue
            except Exception:  # a bug must not end the thread: the records wait in the spool
                delay = min(delay * 2, 30.0)
                logger.exception("click flush crashed, retrying in %.0fs", delay)
                continue
            delay = self.interval
