"""Webhook ingest under granian (or gunicorn): verify + commit + enqueue at a fixed request rate.

    .venv/bin/python -m benchmarks.webhook_ingest [--rate 500] [--seconds 10] [--rounds 3]

Needs the PostgreSQL (db `test`) and Redis the tests use. Each run migrates a fresh schema with
Alembic and drops it afterwards, and uses Redis database 11 (flushed before and after). The app
(`plugin.wsgi:app`) and a bare one-route Flask app run under the same server settings and take
the same signed sandbox deliveries, alternately, in each round; latencies are open-loop (from each
request's scheduled send time). Goal: app p99 <= 100 ms at 500 requests/s.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import uuid
from datetime import UTC, datetime

from redis import Redis
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks._util import (
    SERVERS,
    LoadResult,
    PreparedRequest,
    fresh_schema,
    ms,
    open_loop,
    serve,
)
from connectors.sandbox import signing
from plugin.crypto import CredentialBox
from plugin.db import make_engine
from plugin.services.shops import create_or_reinstall_shop

REDIS_URL = "redis://127.0.0.1:6379/11"
SECRET_KEY = "benchmark-secret-key"  # noqa: S105 - the benchmark server's throwaway key
SHOP_DOMAIN = "bench.sandbox.test"
WEBHOOK_SECRET = "whsec-benchmark-" + secrets.token_hex(8)
GOAL_P99_SECONDS = 0.100


def seed_shop(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        create_or_reinstall_shop(
            session,
            CredentialBox(None, fallback_secret=SECRET_KEY),
            platform="sandbox",
            domain=SHOP_DOMAIN,
            credentials={"webhook_secret": WEBHOOK_SECRET},
        )
        session.commit()
    engine.dispose()


def order_payload(number: int) -> dict[str, object]:
    """A realistic sandbox order (about 1 KB), like connectors.sandbox.store sends."""
    now = datetime.now(UTC).isoformat()
    return {
        "id": 100_000 + number,
        "number": f"SB{100_000 + number}",
        "status": "paid",
        "created_at": now,
        "updated_at": now,
        "currency": "USD",
        "presentment_currency": "USD",
        "subtotal_minor": 5400,
        "discount_minor": 600,
        "tax_minor": 432,
        "shipping_minor": 500,
        "total_minor": 6332,
        "line_items": [
            {
                "id": 900_000 + number * 2 + line,
                "product_id": 7001 + line,
                "variant_id": 8001 + line,
                "title": f"Glow serum {line}",
                "quantity": 1 + line,
                "price_minor": 2000,
                "discount_minor": 300,
            }
            for line in range(2)
        ],
        "discount_codes": ["AVA10"],
        "click_id": uuid.uuid4().hex,
        "landing_site": "/products/glow-serum?utm_source=tastemaker&tm_click=abc",
        "referring_site": "https://www.instagram.com/",
        "customer": {"id": 4000 + number, "email_hash": secrets.token_hex(32), "first_order": True},
        "test": False,
        "cancelled_at": None,
        "refunds": [],
    }


def deliveries(prefix: str, count: int) -> list[PreparedRequest]:
    prepared = []
    for number in range(count):
        body = json.dumps(order_payload(number), separators=(",", ":")).encode()
        prepared.append(
            PreparedRequest(
                "/webhooks/sandbox",
                body,
                {
                    "Content-Type": "application/json",
                    signing.TOPIC_HEADER: "orders/create",
                    signing.SHOP_HEADER: SHOP_DOMAIN,
                    signing.EVENT_ID_HEADER: f"{prefix}-{number:06d}",
                    signing.TRIGGERED_AT_HEADER: datetime.now(UTC).isoformat(),
                    signing.SIGNATURE_HEADER: signing.sign(body, WEBHOOK_SECRET),
                },
            )
        )
    return prepared


def stored_count(url: str, prefix: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM webhook_events WHERE dedupe_key LIKE :pattern"),
            {"pattern": f"%:{prefix}-%"},
        ).scalar_one()
    engine.dispose()
    return int(count)


def describe(name: str, result: LoadResult) -> str:
    return (
        f"  {name:<5} p50 {ms(result.percentile(50)):>9}  p99 {ms(result.percentile(99)):>9}  "
        f"max {ms(max(result.latencies, default=0.0)):>9}  "
        f"achieved {result.achieved_rate:6.1f} req/s  statuses {result.statuses}  "
        f"errors {result.errors}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="app/bare alternations")
    parser.add_argument("--workers", type=int, default=4, help="server worker processes")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per worker (gunicorn: >1 means gthread)"
    )
    parser.add_argument("--server", choices=SERVERS, default="granian")
    args = parser.parse_args()
    count = int(args.rate * args.seconds)
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    server_args = {"workers": args.workers, "threads": args.threads}
    print(
        f"webhook ingest: {args.rate:.0f} req/s for {args.seconds:.0f} s x {args.rounds} rounds, "
        f"{args.server} --workers {args.workers} (threads {args.threads}), PostgreSQL + Redis"
    )
    app_runs: list[LoadResult] = []
    bare_runs: list[LoadResult] = []
    stored = expected = 0
    try:
        with fresh_schema() as url:
            seed_shop(url)
            env = {
                "TASTEMAKER_ENV": "development",
                "TASTEMAKER_DATABASE_URL": url,
                "TASTEMAKER_REDIS_URL": REDIS_URL,
                "TASTEMAKER_SECRET_KEY": SECRET_KEY,
                "TASTEMAKER_LOG_LEVEL": "WARNING",
            }
            with (
                serve(args.server, "plugin.wsgi:app", env=env, **server_args) as app_server,
                serve(args.server, "benchmarks._util:bare_app()", **server_args) as bare_server,
            ):
                warm = deliveries("warm", min(count, 500))
                open_loop(app_server.port, warm, rate=args.rate / 2)
                open_loop(bare_server.port, warm, rate=args.rate / 2)
                for round_number in range(1, args.rounds + 1):
                    prefix = f"r{round_number}"
                    batch = deliveries(prefix, count)
                    bare = open_loop(bare_server.port, batch, rate=args.rate)
                    app = open_loop(app_server.port, batch, rate=args.rate)
                    bare_runs.append(bare)
                    app_runs.append(app)
                    round_stored = stored_count(url, prefix)
                    stored += round_stored
                    expected += count
                    print(f"round {round_number}: stored {round_stored}/{count}")
                    print(describe("app", app))
                    print(describe("bare", bare))
            enqueued = int(redis.llen("rq:queue:webhooks"))
    finally:
        redis.flushdb()
        redis.close()
    app_p50 = statistics.median(run.percentile(50) for run in app_runs)
    app_p99 = statistics.median(run.percentile(99) for run in app_runs)
    bare_p50 = statistics.median(run.percentile(50) for run in bare_runs)
    bare_p99 = statistics.median(run.percentile(99) for run in bare_runs)
    print(f"median over rounds: app p50 {ms(app_p50)} p99 {ms(app_p99)}")
    print(f"                    bare p50 {ms(bare_p50)} p99 {ms(bare_p99)}")
    print(f"ratio app/bare: p50 {app_p50 / bare_p50:.1f}x, p99 {app_p99 / bare_p99:.1f}x")
    print(f"stored {stored}/{expected} measured deliveries; jobs on the webhooks queue: {enqueued}")
    verdict = "met" if app_p99 <= GOAL_P99_SECONDS and stored == expected else "NOT met"
    print(f"goal (p99 <= {ms(GOAL_P99_SECONDS)} at {args.rate:.0f} req/s, all stored): {verdict}")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    raise SystemExit(main())
