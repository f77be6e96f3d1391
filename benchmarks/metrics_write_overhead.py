"""What keeping the metric rollups costs the write paths, A/B in one process on PostgreSQL.

    .venv/bin/python -m benchmarks.metrics_write_overhead [--rounds 15] [--batch 250]
        [--orders 20]

The full-stack benchmarks (benchmarks.redirect, .attribution) measure the same paths end to
end; this one isolates the rollup work so its share is visible even on a busy machine: the same
writes run alternately with the rollup hooks on and replaced by no-ops, interleaved round by
round, each in its own committed transaction:
- click flush: `store_click_lines` of a batch of spooled click lines, the production flush's
  own statement (a few links; visitor hashes are hex digests as the redirect writes them, a
  third of them one returning visitor), i.e. the INSERT plus `rollups.add_click_batch`;
- order apply: `apply_order` of new code-attributed paid orders (upsert, attribution,
  commission, with its balance rollup upsert) plus `rollups.settle_orders` at commit (cells,
  contribution, customer cohort),
  `--per-transaction` orders per transaction like a webhook drain batch (up to 50).
Prints the median time per batch / per order with and without, and the ratio. Goal (issue 14):
within 10 % (ratio <= 1.10).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from benchmarks._util import fresh_schema
from connectors.base import LineItem, NormalizedOrder
from plugin.db import make_engine
from plugin.models import Agreement, Creator, DiscountCode, ReferralLink, Shop
from plugin.services import balance_rollups, click_flush, orders, rollups

GOAL_RATIO = 1.10


@contextmanager
def hooks(enabled: bool) -> Iterator[None]:
    """The rollup hooks as shipped, or replaced by no-ops."""
    saved = (rollups.add_click_batch, rollups.settle_orders, balance_rollups.add_entry)
    if not enabled:
        rollups.add_click_batch = lambda connection, rows: None  # type: ignore[assignment]
        rollups.settle_orders = lambda session: session.info.pop(rollups.PENDING, None)  # type: ignore[assignment]
        balance_rollups.add_entry = lambda session, shop_id, values: None  # type: ignore[assignment]
    try:
        yield
    finally:
        (rollups.add_click_batch, rollups.settle_orders, balance_rollups.add_entry) = saved  # type: ignore[assignment]


def setup(factory: sessionmaker[Session]) -> tuple[int, list[ReferralLink]]:
    with factory() as session:
        shop = Shop(
            platform="sandbox", domain="ab.example", public_key="pk_ab", timezone="Europe/Paris"
        )
        session.add(shop)
        session.flush()
        links = []
        for n in range(4):
            creator = Creator(shop_id=shop.id, handle=f"ab{n}")
            session.add(creator)
            session.flush()
            agreement = Agreement(
                shop_id=shop.id, creator_id=creator.id, commission_rate_bps=1000, currency="USD"
            )
            session.add(agreement)
            session.flush()
            session.add(
                DiscountCode(
                    shop_id=shop.id,
                    creator_id=creator.id,
                    agreement_id=agreement.id,
                    code=f"AB{n}",
                    code_normalized=f"ab{n}",
                    status="active",
                )
            )
            link = ReferralLink(shop_id=shop.id, creator_id=creator.id, slug=f"ab{n:04d}")
            session.add(link)
            links.append(link)
        session.commit()
        return shop.id, links


RETURNING_VISITOR = hashlib.sha256(b"returning visitor").hexdigest()


def click_batch(links: list[ReferralLink], size: int) -> list[bytes]:
    """Spool lines as the redirect writes them (plugin.services.clicks.ClickRecorder)."""
    now = time.time()
    return [
        json.dumps(
            {
                "click_uid": secrets.token_hex(16),
                "shop_id": links[n % len(links)].shop_id,
                "link_id": links[n % len(links)].id,
                "creator_id": links[n % len(links)].creator_id,
                "occurred_at": now + n / 1000,
                "visitor_hash": secrets.token_hex(32) if n % 3 else RETURNING_VISITOR,
                "referrer_host": "instagram.com",
            }
        ).encode()
        + b"\n"
        for n in range(size)
    ]


_numbers = itertools.count(10_000_000)


def new_order() -> NormalizedOrder:
    number = next(_numbers)
    now = datetime.now(UTC)
    return NormalizedOrder(
        platform="sandbox",
        platform_order_id=number,
        order_number=f"AB{number}",
        status="paid",
        created_at=now,
        updated_at=now,
        currency="USD",
        presentment_currency="USD",
        subtotal_minor=6000,
        discount_minor=0,
        tax_minor=0,
        shipping_minor=0,
        total_minor=6000,
        presentment_total_minor=6000,
        line_items=(LineItem(1, 11, 111, "Serum", 1, 6000),),
        discount_codes=(f"AB{number % 4}",),
        customer_id=f"customer{number % 500}",
        is_first_order=number % 2 == 0,
    )


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=click_flush.FLUSH_BATCH // 2)
    parser.add_argument("--orders", type=int, default=4, help="transactions per round and side")
    parser.add_argument("--per-transaction", type=int, default=25)
    args = parser.parse_args()
    samples: dict[tuple[str, bool], list[float]] = {}
    with fresh_schema("tm_bench_rollup_ab") as url:
        engine = make_engine(url)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        shop_id, links = setup(factory)
        for round_number in range(args.rounds):
            # Alternate which side goes first, so drift in the machine's load cancels out.
            for enabled in (True, False) if round_number % 2 else (False, True):
                with hooks(enabled):
                    batch = click_batch(links, args.batch)

                    def flush(batch: list[bytes] = batch) -> None:
                        with factory.begin() as session:
                            click_flush.store_click_lines(session, batch)

                    samples.setdefault(("click flush batch", enabled), []).append(timed(flush))
                    for _ in range(args.orders):

                        def apply() -> None:
                            with factory.begin() as session:
                                shop = session.get(Shop, shop_id)
                                assert shop is not None
                                for _ in range(args.per_transaction):
                                    orders.apply_order(session, shop, new_order())

                        per_order = timed(apply) / args.per_transaction
                        samples.setdefault(("order apply", enabled), []).append(per_order)
        engine.dispose()
    print("(interleaved A/B in one process; the machine may be shared: read the ratios)")
    print(f"  click batches of {args.batch}; orders {args.per_transaction} per transaction")
    ok = True
    for path in ("click flush batch", "order apply"):
        on = statistics.median(samples[(path, True)]) * 1000
        off = statistics.median(samples[(path, False)]) * 1000
        ratio = on / off
        ok &= ratio <= GOAL_RATIO
        print(
            f"  {path:<18} without rollups {off:8.2f} ms   with rollups {on:8.2f} ms   "  # per unit
            f"ratio {ratio:.2f} (goal <= {GOAL_RATIO:.2f})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
