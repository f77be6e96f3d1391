"""Spool replay after a database outage, on PostgreSQL: deliveries recorded per second.

    .venv/bin/python -m benchmarks.spool_replay [--deliveries 3000] [--rounds 3]

While the database is down the webhook route keeps raw signed deliveries in a local fsync'd spool;
`replay_spool` records them once it is back. Baseline, measured in the same run: the same spooled
deliveries recorded one by one through `receive` (verify, look the shop up, insert, commit), which
is how replay worked before. Measured: `replay_spooled` (batches of 500: one INSERT ... ON
CONFLICT DO NOTHING and one commit per batch, shop contexts reused). Each round spools fresh
deliveries for each side, alternately, into a fresh migrated schema. Goal: >= 500 deliveries/s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.orm import Session

from benchmarks._util import fresh_schema
from connectors.sandbox import signing
from plugin import create_app
from plugin.db import get_db
from plugin.extensions import connectors, credentials
from plugin.ingest.inbox import inbound, receive, replay_spooled, spool_delivery
from plugin.ingest.stats import WebhookStats
from plugin.models import WebhookEvent
from plugin.services.shops import create_or_reinstall_shop
from plugin.settings import Settings
from plugin.spool import Record, Spool
from workers import runtime
from workers.backends import InProcessBackend

SHOP_DOMAIN = "replay.sandbox.test"
WEBHOOK_SECRET = "whsec-replay-benchmark"  # noqa: S105 - a throwaway benchmark secret
GOAL_PER_SECOND = 500.0


def spool_deliveries(spool: Spool, count: int, offset: int) -> None:
    for number in range(offset, offset + count):
        body = (
            b'{"id":%d,"number":"SB%d","status":"paid","currency":"USD","subtotal_minor":5400,'
            b'"total_minor":5900,"line_items":[{"id":%d,"title":"Serum","quantity":1,'
            b'"price_minor":5400}],"refunds":[]}' % (number, number, number * 10)
        )
        headers = {
            "Content-Type": "application/json",
            signing.TOPIC_HEADER: "orders/paid",
            signing.SHOP_HEADER: SHOP_DOMAIN,
            signing.EVENT_ID_HEADER: str(uuid.uuid4()),
            signing.TRIGGERED_AT_HEADER: datetime.now(UTC).isoformat(),
            signing.SIGNATURE_HEADER: signing.sign(body, WEBHOOK_SECRET),
        }
        spool_delivery(spool, "sandbox", inbound(body, headers, "application/json"))


def one_by_one(session: Session, spool: Spool) -> int:
    """The baseline: every spooled delivery through `receive`, one commit each."""
    import base64

    recorded = 0
    registry, box = connectors(), credentials()

    def consume(records: list[Record]) -> None:
        nonlocal recorded
        for record in records:
            delivery = inbound(base64.b64decode(record["body"]), record["headers"])
            receipt = receive(
                session,
                registry.get(record["platform"]),
                box,
                delivery,
                received_at=datetime.fromisoformat(record["received_at"]),
            )
            recorded += receipt.outcome == "stored"

    spool.replay(consume)
    return recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"one by one (baseline)": [], "batched replay": []}
    with fresh_schema("tm_bench_replay") as url, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="test",
            database_url=url,
            secret_key="benchmark-secret-key",  # noqa: S106 - a throwaway benchmark key
            public_url="https://tastemaker.test",
            spool_dir=Path(tmp) / "spool",
            media_dir=Path(tmp) / "media",
        )
        app = create_app(settings)
        # Jobs wait (never run): only recording is measured, not the drains it asks for.
        runtime.init_app(app, InProcessBackend(lambda spec, args: None, threaded=False))
        with app.app_context():
            session = get_db(app).session()
            create_or_reinstall_shop(
                session,
                credentials(),
                platform="sandbox",
                domain=SHOP_DOMAIN,
                credentials={"webhook_secret": WEBHOOK_SECRET},
            )
            session.commit()
            offset = 0
            for _ in range(args.rounds):
                for name in rates:
                    spool = Spool(Path(tmp), f"round-{offset}", fsync=True)
                    spool_deliveries(spool, args.deliveries, offset)
                    spool.close()
                    offset += args.deliveries
                    started = time.perf_counter()
                    if name == "batched replay":
                        recorded = replay_spooled(
                            session, spool, connectors(), credentials(), WebhookStats()
                        )
                    else:
                        recorded = one_by_one(session, spool)
                    elapsed = time.perf_counter() - started
                    assert recorded == args.deliveries, (name, recorded)
                    rates[name].append(recorded / elapsed)
                    session.execute(delete(WebhookEvent))
                    session.commit()
            session.close()
        get_db(app).engine.dispose()
    baseline = statistics.median(rates["one by one (baseline)"])
    batched = statistics.median(rates["batched replay"])
    print(f"spool replay of {args.deliveries} deliveries x {args.rounds} rounds (PostgreSQL)")
    for name, values in rates.items():
        print(f"  {name:24s} median {statistics.median(values):8.0f}/s  runs {values!r:.60}")
    verdict = "ok" if batched >= GOAL_PER_SECOND else "BELOW GOAL"
    goal = f"goal >= {GOAL_PER_SECOND:.0f}/s: {verdict}"
    print(f"  ratio batched/baseline {batched / baseline:.1f}x; {goal}")


if __name__ == "__main__":
    main()
