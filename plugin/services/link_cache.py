"""The in-process cache behind /r/<slug>: slug -> ResolvedLink.

The redirect must stay fast and keep answering when the database is slow or down, so it never
queries per request: `LinkResolver` keeps each slug's resolved destination in process memory for
a short TTL, reloads it on a miss, and once an entry has expired it keeps serving the stale entry
while a reload runs (in the background when the caller supplies a runner). A reload that fails
leaves the stale entry in place. Only a slug never seen by this process needs the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from plugin.services.links import ResolvedLink

logger = logging.getLogger(__name__)


class LinkUnavailable(Exception):
    """A slug this process has never resolved, while the database cannot be reached."""


@dataclass(slots=True)
class _Entry:
    link: ResolvedLink | None  # None: the slug does not exist (cached briefly)
    fresh_until: float


Runner = Callable[[Callable[[], None]], None]


def run_inline(task: Callable[[], None]) -> None:
    task()


class LinkResolver:
    """slug -> ResolvedLink from process memory; the database only on a miss or a refresh."""

    def __init__(
        self,
        load: Callable[[str], ResolvedLink | None],
        *,
        ttl: float = 30.0,
        negative_ttl: float = 5.0,
        max_entries: int = 50_000,
        refresh_runner: Runner = run_inline,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.max_entries = max_entries
        self._refresh_runner = refresh_runner
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._refreshing: set[str] = set()
        self._lock = threading.Lock()

    def resolve(self, slug: str) -> ResolvedLink | None:
        """The link, None for an unknown slug; LinkUnavailable when unknown here and DB is down."""
        entry = self._entries.get(slug)
        if entry is not None:
            if self._clock() >= entry.fresh_until:
                self._schedule_refresh(slug)
            return entry.link
        try:
            return self._store(slug, self._load(slug))
        except SQLAlchemyError as exc:
            logger.warning("referral link %s unresolvable, database unavailable: %s", slug, exc)
            raise LinkUnavailable(slug) from exc

    def expire(self, slug: str | None = None) -> None:
        """Mark one (or every) entry due for a reload; it is still served until one succeeds."""
        with self._lock:
            targets = [slug] if slug is not None else list(self._entries)
            for key in targets:
                if key in self._entries:
                    self._entries[key].fresh_until = 0.0

    def _store(self, slug: str, link: ResolvedLink | None) -> ResolvedLink | None:
        ttl = self.ttl if link is not None else self.negative_ttl
        with self._lock:
            if len(self._entries) >= self.max_entries and slug not in self._entries:
                self._evict()
            self._entries[slug] = _Entry(link, self._clock() + ttl)
        return link

    def _evict(self) -> None:
        # Unknown slugs first (scanners); then the oldest insertions (dicts keep insertion order).
        unknown = [key for key, entry in self._entries.items() if entry.link is None]
        for key in unknown:
            del self._entries[key]
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]

    def _schedule_refresh(self, slug: str) -> None:
        with self._lock:
            if slug in self._refreshing:
                return
            self._refreshing.add(slug)
        self._refresh_runner(lambda: self._refresh(slug))

    def _refresh(self, slug: str) -> None:
        try:
            self._store(slug, self._load(slug))
        except SQLAlchemyError as exc:
            logger.warning("referral link %s kept stale, database unavailable: %s", slug, exc)
        finally:
            with self._lock:
                self._refreshing.discard(slug)
