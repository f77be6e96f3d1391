"""A local, append-only spool: durable records kept on disk while a backend is unavailable or slow.

Writers append JSON lines to a segment file of their own (one per process and spool name);
`replay` claims closed segments by atomic rename, hands their records to a callback in batches,
and deletes a segment only after the callback returned. A crash mid-replay leaves the claimed
segment for the next replay, so every consumer must be idempotent (unique keys, ON CONFLICT).
A replay may also seal a segment a writer left open and idle; the writer notices at its next
append and writes that record again into a new segment (a duplicate, never a loss).

How a writer notices without a system call per record (a stat per append was a fifth of the
redirect's Python cost, and released the GIL to other requests' threads): before sealing an open
segment, a replay writes a fresh token into the directory's small `seals` file, which every
writer keeps memory-mapped. After each append the writer compares the token with the last one it
saw, a memory read; only when it changed, or when its segment had been quiet for
RECHECK_AFTER, does it check that the segment is still where it left it. The quiet rule covers
a replay on another host of a shared volume, whose token a local mapping may not show: such a
replay seals only segments idle for over a second (click_flush.STALE_AFTER), so it cannot take
a segment written to less than RECHECK_AFTER earlier unless the two clocks differ by more than
a second.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mmap
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Record = dict[str, Any]

logger = logging.getLogger(__name__)

SEALS_FILE = "seals"
TOKEN_SIZE = 8
RECHECK_AFTER = 0.5  # seconds a segment may stay quiet before an append checks it (see above)


class Spool:
    def __init__(
        self, directory: Path, name: str, *, fsync: bool = True, segment_seconds: float = 1.0
    ) -> None:
        self.directory = directory / name
        self.name = name
        self.fsync = fsync
        self.segment_seconds = segment_seconds
        self._lock = threading.Lock()
        self._descriptor = -1  # the open segment's, or -1
        self._opened_at = 0.0
        self._written_at = 0.0  # monotonic time of the open segment's latest append
        self._path: Path | None = None
        self._seals: mmap.mmap | None = None
        self._seen_token = b""

    def append(self, record: Record) -> None:
        self.append_line((json.dumps(record, separators=(",", ":"), default=str) + "\n").encode())

    def append_line(self, line: bytes) -> None:
        """Append one record already serialized as a JSON line (ending in a newline)."""
        with self._lock:
            quiet = self._write(line)
            if not quiet and self._seals is not None and self._seals[:] == self._seen_token:
                return
            # Read the token before looking for the segment: a seal after this check changes
            # the token again, and the next append looks then.
            self._seen_token = self._seals[:] if self._seals is not None else b""
            while self._path is not None and not os.path.exists(self._path):
                # A replay sealed this segment while it looked idle, and may have read it before
                # this line arrived: write the line again into a new segment. A record is then
                # at worst replayed twice, never lost (every consumer is idempotent).
                os.close(self._descriptor)
                self._descriptor = -1
                self._path = None
                self._write(line)

    def _write(self, line: bytes) -> bool:
        """Write the line; True when the segment had been quiet for RECHECK_AFTER before it."""
        # One unbuffered write(2) to an O_APPEND descriptor: in the kernel before the caller
        # answers, without a buffered file object's copy and flush call.
        descriptor = self._current_segment()
        written = os.write(descriptor, line)
        while written < len(line):  # a short write (disk nearly full): finish the record
            written += os.write(descriptor, line[written:])
        if self.fsync:
            os.fsync(descriptor)
        now = time.monotonic()
        quiet = now - self._written_at >= RECHECK_AFTER
        self._written_at = now
        return quiet

    def close(self) -> None:
        with self._lock:
            self._close_segment()

    def _current_segment(self) -> int:
        now = time.monotonic()
        if self._descriptor >= 0 and now - self._opened_at >= self.segment_seconds:
            self._close_segment()
        if self._descriptor < 0:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = time.time_ns()
            self._path = self.directory / f"{stamp}-{os.getpid()}-{threading.get_ident()}.open"
            self._descriptor = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            self._opened_at = self._written_at = now  # a new file cannot have been sealed yet
            if self._seals is None:
                # Without the mapping (a file another user made read-only), every append checks.
                with contextlib.suppress(OSError):
                    self._seals = _map_seals(self.directory)
                    self._seen_token = self._seals[:]
        return self._descriptor

    def _close_segment(self) -> None:
        if self._descriptor < 0 or self._path is None:
            return
        os.close(self._descriptor)
        # Another process's replay may have sealed it as stale: its records are replayed there.
        with contextlib.suppress(FileNotFoundError):
            self._path.rename(self._path.with_suffix(".ready"))
        self._descriptor = -1
        self._path = None

    def pending_segments(self) -> int:
        if not self.directory.exists():
            return 0
        return sum(1 for _ in self.directory.glob("*.ready")) + sum(
            1 for _ in self.directory.glob("*.claimed")
        )

    def replay(
        self,
        consume: Callable[[list[Record]], None],
        *,
        batch_size: int = 500,
        include_open_older_than: float | None = 5.0,
    ) -> int:
        """Feed every closed (and stale open) segment to `consume`; returns records replayed."""
        return self.replay_lines(
            lambda lines: consume([json.loads(line) for line in lines]),
            batch_size=batch_size,
            include_open_older_than=include_open_older_than,
        )

    def replay_lines(
        self,
        consume: Callable[[list[bytes]], None],
        *,
        batch_size: int = 500,
        include_open_older_than: float | None = 5.0,
    ) -> int:
        """As `replay`, with each record as its raw JSON line (for consumers that parse in bulk).

        Batches span segments (a webhook spool seals one segment per delivery), and a segment
        is deleted once every record it holds went through a `consume` that returned."""
        self._seal_stale_segments(include_open_older_than)
        replayed = 0
        batch: list[bytes] = []
        read: list[Path] = []  # segments whose records are all in batches so far

        def flush() -> None:
            nonlocal replayed, batch
            if batch:
                consume(batch)
                replayed += len(batch)
                batch = []
            for done in read:
                done.unlink(missing_ok=True)
            read.clear()

        for claimed in self._claim_segments():
            for line in _read_lines(claimed):
                batch.append(line)
                if len(batch) >= 2 * batch_size:
                    flush()  # a large segment goes in pieces; it is deleted after its last
            read.append(claimed)
            if len(batch) >= batch_size:
                flush()
        flush()
        return replayed

    def _seal_stale_segments(self, older_than: float | None) -> None:
        """Seal this process's segment, and segments left open by dead writers."""
        with self._lock:
            self._close_segment()
        if older_than is None or not self.directory.exists():
            return
        cutoff = time.time() - older_than
        seals: mmap.mmap | None = None
        try:
            for path in self.directory.glob("*.open"):
                try:
                    if path.stat().st_mtime >= cutoff:
                        continue
                    if seals is None:
                        seals = _map_seals(self.directory)
                    # A new token before the rename: a writer still appending to this segment
                    # sees it after its next write and checks the segment (see the top).
                    seals[:] = secrets.token_bytes(TOKEN_SIZE)
                    path.rename(path.with_suffix(".ready"))
                except FileNotFoundError:
                    continue
        except OSError as exc:
            # No token, no seal: the segment waits for its writer's next append or exit.
            logger.warning(
                "spool %s: idle segments left open, seals file unusable: %s", self.directory, exc
            )
        finally:
            if seals is not None:
                seals.close()

    def _claim_segments(self) -> Iterator[Path]:
        if not self.directory.exists():
            return
        # Segments a crashed replay had claimed come first, then new ones, oldest first.
        yield from sorted(self.directory.glob("*.claimed"))
        for ready in sorted(self.directory.glob("*.ready")):
            claimed = ready.with_suffix(".claimed")
            try:
                ready.rename(claimed)
            except FileNotFoundError:
                continue  # another replayer took it
            yield claimed


def _read_lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break  # a torn final write: the writer died before it finished this record
            yield raw


def _map_seals(directory: Path) -> mmap.mmap:
    """The directory's seal token, shared memory-mapped by its writers and replays."""
    descriptor = os.open(directory / SEALS_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if os.fstat(descriptor).st_size < TOKEN_SIZE:
            os.ftruncate(descriptor, TOKEN_SIZE)  # zeros: no seal yet (a race writes zeros too)
        return mmap.mmap(descriptor, TOKEN_SIZE)
    finally:
        os.close(descriptor)  # the mapping keeps the file
