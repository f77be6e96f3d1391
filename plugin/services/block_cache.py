"""Each link's visitor blocks over a period's covered stretch, merged once and kept in the
process: what a long period's per-creator or per-campaign answer reads.

A 365-day per-link answer covers ~25 blocks per link (plugin.services.visitor_blocks); at a
busy shop (10M clicks a year) that is ~28 MB of sketches for 200 links, too much to read and
merge per request. Blocks never change under one `MetricState.sketch_generation` (a change to
settled cells bumps it, and a compaction only adds blocks of newly settled days), so the merge
of a set of blocks is keyed by (database, shop, generation, blocks) and is exact while the key
matches; the days a period does not cover (at most 7 at either end, and the unsettled ones)
are still read from the cells on every request. Grouping (creator, campaign) and filters are
applied after the cache, from the links' current rows, so moving a link to another campaign
shows at once. PostgreSQL only (SQLite test databases reuse shop ids); a few entries per
process (each up to 16 KB per link).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.models import MetricState, VisitorBlock
from plugin.services import visitor_blocks as blocks

MAX_ENTRIES = 8
LinkBlocks = dict[int, tuple[int, int, bytes]]  # link id -> (clicks, creator id, sketch)

_cache: OrderedDict[tuple[Any, ...], LinkBlocks] = OrderedDict()
_lock = threading.Lock()


def link_blocks(session: Session, shop_id: int, covered: Sequence[blocks.Block]) -> LinkBlocks:
    """Per link (not the shop-wide link 0): clicks, creator and the merged sketch of these
    blocks of the shop's current generation."""
    generation = session.scalar(
        select(MetricState.sketch_generation).where(MetricState.shop_id == shop_id)
    )
    bind = session.get_bind()
    cacheable = bind.dialect.name == "postgresql"
    key = (str(bind.engine.url), shop_id, generation, tuple(covered))
    if cacheable:
        with _lock:
            found = _cache.get(key)
            if found is not None:
                _cache.move_to_end(key)
                return found
    rows = session.execute(
        select(
            VisitorBlock.link_id,
            VisitorBlock.creator_id,
            VisitorBlock.clicks,
            VisitorBlock.visitors_sketch,
        ).where(
            VisitorBlock.shop_id == shop_id,
            VisitorBlock.generation == generation,
            VisitorBlock.link_id != blocks.SHOP_WIDE,
            blocks.blocks_filter(covered),
        )
    )
    clicks: dict[int, int] = defaultdict(int)
    creators: dict[int, int] = {}
    sketches: list[tuple[int, bytes]] = []
    for link, creator, count, sketch in rows:
        clicks[link] += int(count)
        creators[link] = int(creator)
        if sketch:
            sketches.append((link, sketch))
    rows_of, merged = blocks.merge_groups(sketches)
    value = {
        link: (
            clicks[link],
            creators[link],
            blocks.encode(merged[rows_of[link]]) if link in rows_of else b"",
        )
        for link in clicks
    }
    if cacheable:
        with _lock:
            _cache[key] = value
            while len(_cache) > MAX_ENTRIES:
                _cache.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _cache.clear()
