"""Click capture: spooled by the redirect, flushed into `clicks` rows in batches, idempotently.

The redirect never waits on the database or the queue: it appends one JSON line to the local
spool (`Spool(spool_dir, "clicks")`) and answers. A flush replays the spool into `clicks` with
INSERT … ON CONFLICT (click_uid) DO NOTHING, so a replay after a crash never double counts, and
a flush that finds the database down leaves every record in the spool for the next one.

Who flushes: the periodic job `workers.jobs.clicks.flush_clicks` (every few seconds), run by
the worker; the spool directory must therefore be on a disk that worker sees (same host or a
shared volume, as for the webhook spool). In the embedded mode there is no worker, so each
process that records clicks runs a small `Flusher` thread instead; the same `flush_spool` runs
either way. Web processes of a deployment with a queue never flush: measured, a flush inside a
web worker holds its GIL in bursts and took the redirect's p99 at 3,000 requests/s from ~1 ms
to ~10 ms. An advisory file lock keeps one flush per host at a time, so two flushers never
replay the same segment.

fsync policy: `fsync=False`. Each append is written and flushed to the kernel before the 302
leaves, so a click survives the crash, OOM kill or restart of the worker process (the failures
that actually happen to web workers); only a kernel crash or power loss in the page-cache
writeback window can lose the last seconds of clicks, and the flush moves them into the database
(which fsyncs on commit) within seconds. Measured on the 2-core benchmark machine: 4.5 µs per
append without fsync, 134 µs with it, when the whole redirect costs ~260 µs of CPU under
gunicorn; fsync per click would add half again to every redirect for that narrow window.
Webhooks, which carry money, keep fsync=True in their own spool.

The visitor hash is HMAC-SHA256 over "ip\\nuser agent" keyed from the app secret: equal visitors
hash equally (unique-visitor counts), and neither the IP nor the user agent is stored.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from plugin.models import Click, ReferralLink
from plugin.services import rollups
from plugin.services.links import ResolvedLink
from plugin.spool import Record, Spool

logger = logging.getLogger(__name__)

SPOOL_NAME = "clicks"
FLUSH_INTERVAL = 2.0
FLUSH_BATCH = 1000
LOCK_FILE = "flush.lock"

Transaction = Callable[[], AbstractContextManager[Session]]


class _RandomPool:
    """Bytes from the OS CSPRNG, read 4 KiB at a time and each used once.

    A getrandom syscall costs ~10 µs on the benchmark VM, a tenth of the whole redirect; one
    read per 256 click ids removes it from the hot path without deriving anything. A forked
    child discards the bytes it inherited, so parent and child never hand out the same id.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._buffer = b""
        self._position = 0

    def take(self, count: int) -> bytes:
        with self._lock:
            if self._position + count > len(self._buffer):
                self._buffer = secrets.token_bytes(self._size)
                self._position = 0
            chunk = self._buffer[self._position : self._position + count]
            self._position += count
            return chunk

    def discard(self) -> None:
        self._buffer = b""
        self._position = 0
        self._lock = threading.Lock()


_random = _RandomPool()
os.register_at_fork(after_in_child=_random.discard)


def new_click_uid() -> str:
    """The public click id (tm_click): 128 bits from the OS CSPRNG, 32 hex characters."""
    return _random.take(16).hex()


def visitor_key(secret: str) -> bytes:
    # A key of its own, so the visitor hash never equals any other HMAC made with the secret.
    return hashlib.sha256(b"tastemaker-visitor-hash:" + secret.encode()).digest()


def visitor_hash(key: bytes | hmac.HMAC, ip: str | None, user_agent: str | None) -> str:
    """HMAC-SHA256 of "ip\\nuser agent"; `key` may be a keyed HMAC to copy (saves the key setup)."""
    mac = key.copy() if isinstance(key, hmac.HMAC) else hmac.new(key, digestmod=hashlib.sha256)
    mac.update(f"{ip or ''}\n{user_agent or ''}".encode())
    return mac.hexdigest()


def referrer_host(referrer: str | None) -> str | None:
    if not referrer:
        return None
    try:
        host = urlsplit(referrer).hostname
    except ValueError:
        return None
    return host[:255] if host else None


_spools: dict[Path, Spool] = {}
_spools_pid = 0
_spools_lock = threading.Lock()


def spool_for(spool_dir: Path) -> Spool:
    """This process's click spool for `spool_dir` (a new one after a fork: segments are per pid)."""
    global _spools_pid
    with _spools_lock:
        if _spools_pid != os.getpid():
            _spools.clear()  # a forked child must not write through its parent's open segment
            _spools_pid = os.getpid()
        spool = _spools.get(spool_dir)
        if spool is None:
            spool = _spools[spool_dir] = Spool(spool_dir, SPOOL_NAME, fsync=False)
        return spool


@atexit.register
def _seal_spools() -> None:
    """On a clean exit, seal open segments so the next flush need not wait for them to age."""
    if _spools_pid == os.getpid():
        for spool in list(_spools.values()):
            spool.close()


class ClickRecorder:
    def __init__(self, spool: Spool, secret: str) -> None:
        self.spool = spool
        self._keyed = hmac.new(visitor_key(secret), digestmod=hashlib.sha256)

    def visitor(self, ip: str | None, user_agent: str | None) -> str:
        """The visitor hash a click of this request gets (a lift test's holdout draws on it)."""
        return visitor_hash(self._keyed, ip, user_agent)

    def record(
        self,
        link: ResolvedLink,
        click_uid: str,
        *,
        ip: str | None,
        user_agent: str | None,
        referrer: str | None,
    ) -> bool:
        """Append the click to the spool; False (logged) when the disk refused it."""
        try:
            self.spool.append(
                {
                    "click_uid": click_uid,
                    "shop_id": link.shop_id,
                    "link_id": link.link_id,
                    "creator_id": link.creator_id,
                    "occurred_at": time.time(),
                    "visitor_hash": visitor_hash(self._keyed, ip, user_agent),
                    "referrer_host": referrer_host(referrer),
                }
            )
        except OSError:
            # The visitor still gets the redirect; the lost click is an error to alert on.
            logger.exception("click %s could not be spooled", click_uid)
            return False
        return True


def _parse(records: list[Record]) -> list[dict[str, Any]]:
    parsed: list[dict[str, Any]] = []
    for record in records:
        try:
            parsed.append(
                {
                    "click_uid": str(record["click_uid"])[:32],
                    "link_id": int(record["link_id"]),
                    "occurred_at": datetime.fromtimestamp(float(record["occurred_at"]), UTC),
                    "visitor_hash": str(record.get("visitor_hash") or "")[:64],
                    "referrer_host": record.get("referrer_host"),
                }
            )
        except (KeyError, TypeError, ValueError):
            logger.error("malformed click record dropped from the spool: %r", record)
    return parsed


# PostgreSQL: one statement per batch, the batch's spooled JSON lines passed as one JSON array
# that the database itself unpacks (json_to_recordset), the same text for every batch size.
# Python then neither parses a record nor builds a parameter per click: measured on the 2-core
# benchmark machine, parsing and binding (one array per column) cost ~20 µs of CPU per click,
# as much as the database's whole insert. The join takes tenant and creator from the link row
# itself, never from the spooled record, and drops the clicks of a link deleted since (they are
# not retried). A record the database cannot read (wrong type, missing field) fails the
# statement: the batch is then stored by `store_clicks`, which checks each record in Python and
# logs and drops the malformed ones.
_POSTGRESQL_INSERT_LINES = text(
    "INSERT INTO clicks (click_uid, shop_id, link_id, creator_id, occurred_at, visitor_hash,"
    " referrer_host)"
    " SELECT left(c.click_uid, 32), l.shop_id, c.link_id, l.creator_id,"
    " to_timestamp(c.occurred_at), left(coalesce(c.visitor_hash, ''), 64),"
    " left(c.referrer_host, 255)"
    " FROM json_to_recordset(CAST(:records AS json))"
    " AS c(click_uid text, link_id bigint, occurred_at double precision, visitor_hash text,"
    " referrer_host text)"
    " JOIN referral_links AS l ON l.id = c.link_id"
    " ON CONFLICT (click_uid) DO NOTHING RETURNING click_uid"
)
# The same with one array per column, for records already parsed in Python.
_POSTGRESQL_INSERT = text(
    "INSERT INTO clicks (click_uid, shop_id, link_id, creator_id, occurred_at, visitor_hash,"
    " referrer_host)"
    " SELECT c.click_uid, l.shop_id, c.link_id, l.creator_id, c.occurred_at, c.visitor_hash,"
    " c.referrer_host FROM unnest(CAST(:click_uid AS varchar[]), CAST(:link_id AS bigint[]),"
    " CAST(:occurred_at AS timestamptz[]), CAST(:visitor_hash AS varchar[]),"
    " CAST(:referrer_host AS varchar[]))"
    " AS c(click_uid, link_id, occurred_at, visitor_hash, referrer_host)"
    " JOIN referral_links AS l ON l.id = c.link_id"
    " ON CONFLICT (click_uid) DO NOTHING RETURNING click_uid"
)
_COLUMNS = ("click_uid", "link_id", "occurred_at", "visitor_hash", "referrer_host")


def store_click_lines(session: Session, lines: list[bytes]) -> int:
    """Insert a batch of spooled JSON lines in one statement; returns how many were new.

    Raises DataError or IntegrityError when a record is malformed (PostgreSQL): the caller
    rolls back and stores the batch with `store_clicks` instead (`parse_click_lines`).
    """
    if not lines:
        return 0
    if session.get_bind().dialect.name != "postgresql":
        return store_clicks(session, parse_click_lines(lines))
    records = b"[" + b",".join(line.rstrip(b"\n") for line in lines) + b"]"
    # RETURNING lists only the rows actually inserted, so replays count 0.
    return len(session.execute(_POSTGRESQL_INSERT_LINES, {"records": records.decode()}).all())


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
        inserted = set(session.execute(_POSTGRESQL_INSERT, columns).scalars())
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
    rollups.add_click_batch(session.connection(), list(stored.values()))
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
    rest_ratio: float = 0.0,
    wait: bool = False,
    stale_after: float = 5.0,
) -> int:
    """Replay spooled clicks into the database; returns clicks newly stored.

    While another flush on this host runs, returns 0 at once, or with `wait` waits for it and
    then flushes what is left (a final drain). With `rest_ratio`, each batch is followed by a rest
    that many times as long as the batch took: the flush then uses at most 1 / (1 + rest_ratio)
    of the time, spreading its (and the database's) work instead of bursting, when they share
    cores with the web workers, while still keeping up with any click rate below that share of
    its full speed. Segments other processes left open are taken once idle `stale_after`
    seconds (0 when every writer is known to be stopped).
    Raises SQLAlchemyError when the database is unavailable: the batch being written rolls back
    and its segment stays claimed in the spool, replayed first by the next flush.
    """
    stored = 0

    def consume(batch: list[bytes]) -> None:
        nonlocal stored
        started = time.monotonic()
        try:
            with transaction() as session:
                stored += store_click_lines(session, batch)
        except (DataError, IntegrityError):
            # A malformed record failed the one-statement insert (rolled back): check each one.
            with transaction() as session:
                stored += store_clicks(session, parse_click_lines(batch))
        if rest_ratio:
            time.sleep((time.monotonic() - started) * rest_ratio)

    spool.close()  # seal this process's own segment, so idle segments never wait to go stale
    with _host_lock(spool, wait=wait) as acquired:
        if not acquired:
            return 0
        spool.replay_lines(consume, batch_size=batch_size, include_open_older_than=stale_after)
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
