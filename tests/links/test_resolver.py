"""The in-process link cache: fresh, stale-but-served, reloaded, and bounded."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import OperationalError

from plugin.services.click_flush import Flusher
from plugin.services.link_cache import LinkResolver, LinkUnavailable
from plugin.services.links import ResolvedLink


def _link(slug: str, version: int = 1) -> ResolvedLink:
    return ResolvedLink(slug, 1, version, 3, "ava", True, "https://s.example/?tm_click=", "", "/")


class Database:
    """A loader standing in for the database: counts loads, can be taken down."""

    def __init__(self) -> None:
        self.loads = 0
        self.down = False
        self.version = 1

    def load(self, slug: str) -> ResolvedLink | None:
        self.loads += 1
        if self.down:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        return _link(slug, self.version) if slug.startswith("known") else None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database() -> Database:
    return Database()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def resolver(database: Database, clock: Clock) -> LinkResolver:
    return LinkResolver(database.load, ttl=30, negative_ttl=5, max_entries=3, clock=clock)


def test_a_fresh_entry_is_served_from_memory(resolver: LinkResolver, database: Database) -> None:
    first = resolver.resolve("known1")
    second = resolver.resolve("known1")
    assert first is second
    assert database.loads == 1


def test_an_expired_entry_is_reloaded(
    resolver: LinkResolver, database: Database, clock: Clock
) -> None:
    # given
    resolver.resolve("known1")
    database.version = 2
    clock.now += 31
    # when (the inline refresh runs during this call; the call itself serves the cached entry)
    served = resolver.resolve("known1")
    # then
    assert served is not None
    assert served.link_id == 1
    assert resolver.resolve("known1").link_id == 2  # type: ignore[union-attr]
    assert database.loads == 2


def test_an_expired_entry_is_served_while_the_database_is_down(
    resolver: LinkResolver, database: Database, clock: Clock
) -> None:
    resolver.resolve("known1")
    database.down = True
    clock.now += 3600
    assert resolver.resolve("known1") == _link("known1")
    assert resolver.resolve("known1") == _link("known1")


def test_an_unknown_slug_is_remembered_briefly(
    resolver: LinkResolver, database: Database, clock: Clock
) -> None:
    assert resolver.resolve("nope") is None
    assert resolver.resolve("nope") is None
    assert database.loads == 1
    clock.now += 6
    resolver.resolve("nope")
    assert database.loads == 2


def test_a_slug_never_seen_while_the_database_is_down_is_unavailable(
    resolver: LinkResolver, database: Database
) -> None:
    database.down = True
    with pytest.raises(LinkUnavailable):
        resolver.resolve("known1")


def test_the_cache_is_bounded_and_drops_unknown_slugs_first(
    resolver: LinkResolver, database: Database
) -> None:
    # given a full cache (3 entries) with one unknown slug
    for slug in ("known1", "nope", "known2"):
        resolver.resolve(slug)
    # when two more links arrive
    resolver.resolve("known3")
    resolver.resolve("known4")
    # then the unknown slug went first, then the oldest link
    loads = database.loads
    resolver.resolve("known3")
    resolver.resolve("known4")
    resolver.resolve("known2")
    assert database.loads == loads
    resolver.resolve("known1")
    assert database.loads == loads + 1


def test_the_flusher_thread_keeps_flushing_after_a_failure() -> None:
    # given a flush that fails once, then succeeds
    calls: list[int] = []
    succeeded = threading.Event()

    def flush() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, Exception("database down"))
        succeeded.set()
        return 0

    flusher = Flusher(flush, interval=0.01).start()
    # when / then
    try:
        assert succeeded.wait(10)
    finally:
        flusher.stop()
    assert not flusher.is_alive()
    assert len(calls) >= 2
