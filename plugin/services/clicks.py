"""Click capture: the redirect spools each click; the flush (plugin.services.click_flush) stores it.

The redirect never waits on the database or the queue: it appends one JSON line to the local
spool (`Spool(spool_dir, "clicks")`) and answers. The flush replays the spool into `clicks` rows
and their rollup cells in batches, exactly once (see there for who runs it and how).

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
import hashlib
import json
import logging
import os
import re
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from plugin.services.links import ResolvedLink
from plugin.spool import Spool

logger = logging.getLogger(__name__)

SPOOL_NAME = "clicks"


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


def new_click_uid(now_ns: int | None = None) -> str:
    """The public click id (tm_click), 32 hex characters: the time in milliseconds (48 bits),
    then 80 bits from the OS CSPRNG. `now_ns` (time.time_ns()) lets the redirect read the clock
    once for the id and the spooled click's time.

    Time first, as in UUIDv7, so the clicks' unique index grows at its right edge: with wholly
    random ids every stored click lands on a random page of an index that outgrows memory
    (measured on the 2-core machine, the flush's PostgreSQL CPU per click on a table of 1M
    clicks: 44-54 µs with random ids, 37-39 µs with these). 80 random bits keep an id
    unguessable; that a click id tells when it was made is no secret (so does the click)."""
    milliseconds = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
    return (milliseconds.to_bytes(6, "big") + _random.take(10)).hex()


def visitor_key(secret: str) -> bytes:
    # A key of its own, so the visitor hash never equals any other HMAC made with the secret.
    return hashlib.sha256(b"tastemaker-visitor-hash:" + secret.encode()).digest()


_BLOCK = 64  # SHA-256's block size, HMAC's key pad (RFC 2104)
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))


class VisitorHasher:
    """The visitor hash for one key: HMAC-SHA256 of "ip\\nuser agent" (RFC 2104), with the key's
    two padded blocks hashed once.

    The one-shot hmac.digest hashes both key blocks again for every visitor: four SHA-256 blocks
    a click where two carry the visitor. Starting from copies of the two keyed states measured
    0.66 µs a hash against 1.69 µs on the 2-core benchmark machine, the redirect's largest
    single cost after the spool write. tests/links/test_click_line.py holds it to hmac.new.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(padded.translate(_INNER_PAD))
        self._outer = hashlib.sha256(padded.translate(_OUTER_PAD))

    def __call__(self, ip: str | None, user_agent: str | None) -> str:
        inner = self._inner.copy()
        inner.update(f"{ip or ''}\n{user_agent or ''}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


_PLAIN_HOST = re.compile(r"[a-z0-9.-]{1,255}")


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
    """Spools each counted click as one JSON line, written without the json module.

    The line is the hot path's largest cost after the server itself: json.dumps of the record
    dict took more time than the rest of the redirect's Python together. Every field but the
    referrer host is a number or hex text known not to need escaping, and the link's own ids are
    formatted once per link (`_link_fields`); a referrer host is escaped only when it is not a
    plain lower-case host name.
    """

    def __init__(self, spool: Spool, secret: str) -> None:
        self.spool = spool
        # visitor(ip, user_agent): a request's visitor hash, its click's and the one a lift
        # test's holdout draws on.
        self.visitor = VisitorHasher(visitor_key(secret))
        self._link_fields: dict[tuple[int, int, int], str] = {}

    def record(
        self,
        link: ResolvedLink,
        click_uid: str,
        *,
        visitor: str,
        referrer: str | None,
        now_ns: int | None = None,
    ) -> bool:
        """Append the click (`visitor`: its visitor hash, from `self.visitor`) to the spool;
        False (logged) when the disk refused it. `now_ns` is when it happened (time.time_ns()).
        """
        host = referrer_host(referrer)
        # The time goes out as whole microseconds with a decimal exponent, a JSON number equal
        # to time.time() to the microsecond: integer formatting costs a fifth of a float's repr.
        microseconds = (time.time_ns() if now_ns is None else now_ns) // 1000
        line = (
            f'{{"click_uid":"{click_uid}",{self._ids(link)},"occurred_at":{microseconds}e-6,'
            f'"visitor_hash":"{visitor}","referrer_host":{_json_text(host)}}}\n'
        )
        try:
            self.spool.append_line(line.encode())
        except OSError:
            # The visitor still gets the redirect; the lost click is an error to alert on.
            logger.exception("click %s could not be spooled", click_uid)
            return False
        return True

    def _ids(self, link: ResolvedLink) -> str:
        key = (link.shop_id, link.link_id, link.creator_id)
        fields = self._link_fields.get(key)
        if fields is None:
            if len(self._link_fields) >= _MAX_LINK_FIELDS:
                self._link_fields.clear()
            fields = self._link_fields[key] = (
                f'"shop_id":{int(link.shop_id)},"link_id":{int(link.link_id)},'
                f'"creator_id":{int(link.creator_id)}'
            )
        return fields


_MAX_LINK_FIELDS = 100_000


def _json_text(value: str | None) -> str:
    if value is None:
        return "null"
    if _PLAIN_HOST.fullmatch(value):
        return f'"{value}"'
    return json.dumps(value)
