"""Click cells' visitor sketches as the flush writes them: on PostgreSQL each flush appends its
batch's entries to the cell in the upsert itself; the sketch keeps its meaning (a register's
rank is its largest entry), and a cell grown past NORMALIZE_ABOVE is rewritten canonical."""

from __future__ import annotations

import random
from array import array
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain import hll
from plugin.models import ClickDay
from plugin.services import metrics
from plugin.services.click_flush import store_clicks
from plugin.services.rollups import NORMALIZE_ABOVE
from tests.engine.factories import make_creator, make_link, make_shop
from tests.metrics.test_rollups_lifecycle import _click

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_decode_takes_the_largest_of_appended_entries() -> None:
    # given: a sparse head, then entries appended out of order and repeated
    head = hll.encode({5: 3, 9: 1})
    appended = array("I", [9 << 8 | 4, 5 << 8 | 2, 7 << 8 | 1, 9 << 8 | 2]).tobytes()
    # when / then
    assert hll.decode(head + appended) == {5: 3, 7: 1, 9: 4}
    assert hll.normalize(head + appended) == hll.encode({5: 3, 7: 1, 9: 4})


@pytest.mark.parametrize(
    "extra",
    [
        [],  # digests only: the vectorized path
        ["returning-visitor", ""],  # not a digest, and no visitor
        ["ABCDEF" + "0" * 58],  # uppercase hex is not a digest: hashed like any string
        ["0123 4567" + "0" * 55],  # bytes.fromhex skips the space: still not a digest
        ["0" * 64, "0" * 16 + "f" * 48],  # a zero tail: the largest rank
    ],
)
def test_sparse_of_gives_the_bytes_of_registers_of(extra: list[str]) -> None:
    # given: 500 digests, some repeated, plus the odd ones
    rng = random.Random(len(extra))
    digests = [f"{rng.getrandbits(256):064x}" for _ in range(500)]
    hashes = digests + digests[:100] + extra
    rng.shuffle(hashes)
    # when / then
    assert hll.sparse_of(hashes) == hll.encode_sparse(hll.registers_of(hashes))
    assert hll.sparse_of([]) == hll.encode_sparse({})


def test_decode_reads_entries_appended_to_a_dense_head() -> None:
    registers = dict.fromkeys(range(hll.DENSE_ABOVE + 1), 1)
    dense = hll.encode(registers)
    assert dense[:1] == hll.DENSE
    appended = array("I", [3 << 8 | 6, (hll.REGISTERS - 1) << 8 | 2]).tobytes()
    assert hll.decode(dense + appended) == {**registers, 3: 6, hll.REGISTERS - 1: 2}


def test_flushes_into_one_cell_keep_every_visitor(session: Session) -> None:
    # given: one link
    shop = make_shop(session)
    link = make_link(session, shop, make_creator(session, shop))
    # when: flushes into the same cell until its sketch has grown past the rewrite threshold
    visitors = 3 * NORMALIZE_ABOVE // 4 + 500
    for batch in range(0, visitors, 500):
        store_clicks(
            session,
            [
                _click(link, f"u{n:07d}", NOW, f"visitor-{n}")
                for n in range(batch, min(batch + 500, visitors))
            ],
        )
    session.flush()
    # then: the cell counts every click, holds a canonical sketch, and estimates the visitors
    sketch = session.scalar(select(ClickDay.visitors_sketch).where(ClickDay.link_id == link.id))
    assert sketch is not None
    assert len(sketch) <= NORMALIZE_ABOVE
    assert hll.decode(sketch) == hll.registers_of(f"visitor-{n}" for n in range(visitors))
    summary = metrics.shop_summary(
        session, shop.id, start=NOW - timedelta(hours=1), end=NOW
    ).attributed
    assert summary.clicks == visitors
    assert abs(summary.unique_visitors - visitors) <= visitors * 0.02


def test_a_flush_after_the_shop_changed_timezone_uses_the_new_one(session: Session) -> None:
    # given: a flush through a link (the process now knows the link's shop as UTC)
    shop = make_shop(session, timezone="UTC")
    link = make_link(session, shop, make_creator(session, shop))
    store_clicks(session, [_click(link, "first", NOW, "v1")])
    # when: the shop moves to Auckland (UTC+12 in June), then a click at 14:00 UTC arrives
    shop.timezone = "Pacific/Auckland"
    session.flush()
    store_clicks(session, [_click(link, "second", NOW + timedelta(hours=2), "v2")])
    session.flush()
    # then: that click counts on the next local day, 2 June in Auckland
    days = session.execute(
        select(ClickDay.day, ClickDay.clicks).where(ClickDay.link_id == link.id)
    ).all()
    assert sorted((day.isoformat(), clicks) for day, clicks in days) == [
        ("2026-06-01", 1),
        ("2026-06-02", 1),
    ]
