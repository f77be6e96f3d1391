"""Attribution throughput: sandbox order webhooks drained by real RQ workers on PostgreSQL.

    .venv/bin/python -m benchmarks.attribution [--events 1000] [--workers 2] [--rounds 3]

Needs the PostgreSQL (db `test`) and Redis the tests use. Migrates a fresh schema with Alembic
(dropped afterwards) and uses Redis database 14 (flushed before and after). Setup records N order
events from the sandbox store (orders/create + orders/paid for N/2 orders; creator codes, click
ids, referral links and unattributed orders mixed) straight into the webhook inbox and enqueues
`workers.jobs.webhooks.process_webhook_event` for each. Then `--workers` processes run exactly
what `tastemaker worker --burst --queues webhooks` runs (jobs in the warm worker process, through
`workers.runtime.run_job`; `--worker-model fork` compares `--fork`, a work horse per job), and
the throughput is N / (last job end - first job start),
read from RQ's own job timestamps so that worker start-up is not counted. The baseline, in the
same round and on the same workers, drains N no-op jobs through the same `run_job`. Prints the
median of the rounds and the ratio. Goal: >= 300 events/s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis import Redis
from rq.job import Job
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from benchmarks._util import fresh_schema
from connectors.sandbox.store import Item, SandboxStore
from plugin.crypto import CredentialBox
from plugin.db import make_engine
from plugin.models import (
    Agreement,
    Click,
    Creator,
    DiscountCode,
    LedgerEntry,
    Order,
    ReferralLink,
    WebhookEvent,
)
from plugin.services.shops import create_or_reinstall_shop
from workers.backends import RQBackend
from workers.registry import job, spec_for

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/14"
SECRET_KEY = "benchmark-secret-key"  # noqa: S105 - the benchmark's throwaway key
SHOP_DOMAIN = "attribution.bench.sandbox.test"
CREATORS = 50
CLICKS_PER_CREATOR = 20
GOAL_EVENTS_PER_SECOND = 300.0


@job("webhooks", timeout=60)
def noop(event_id: int) -> None:
    """The baseline job: same queue, same run_job wrapper and app context, no work."""


def seed(session: Session) -> int:
    """A shop with creators, each with an agreement, a code, a link and recent clicks."""
    shop = create_or_reinstall_shop(
        session,
        CredentialBox(None, fallback_secret=SECRET_KEY),
        platform="sandbox",
        domain=SHOP_DOMAIN,
        credentials={"webhook_secret": "unused"},
    )
    now = datetime.now(UTC)
    for n in range(CREATORS):
        creator = Creator(shop_id=shop.id, handle=f"creator{n}", email_hash=secrets.token_hex(32))
        session.add(creator)
        session.flush()
        agreement = Agreement(shop_id=shop.id, creator_id=creator.id, commission_rate_bps=1000)
        link = ReferralLink(shop_id=shop.id, creator_id=creator.id, slug=f"bench{n:04d}")
        session.add_all([agreement, link])
        session.flush()
        session.add(
            DiscountCode(
                shop_id=shop.id,
                creator_id=creator.id,
                agreement_id=agreement.id,
                code=f"CREATOR{n}",
                code_normalized=f"creator{n}",
                status="active",
            )
        )
        session.add_all(
            Click(
                shop_id=shop.id,
                link_id=link.id,
                creator_id=creator.id,
                click_uid=f"c{n:03d}x{k:03d}",
                occurred_at=now - timedelta(hours=k),
            )
            for k in range(CLICKS_PER_CREATOR)
        )
    session.commit()
    return shop.id


def record_events(session: Session, shop_id: int, store: SandboxStore, count: int) -> list[int]:
    """Place count/2 orders in the sandbox store and insert its deliveries into the inbox."""
    store.deliveries.clear()
    for n in range(count // 2):
        creator, kind = n % CREATORS, n % 20
        attribution: dict[str, Any] = {}
        if kind < 8:
            attribution["discount_code"] = f"Creator{creator}"
        elif kind < 14:
            attribution["click_id"] = f"c{creator:03d}x{n % CLICKS_PER_CREATOR:03d}"
        elif kind < 17:
            attribution["landing_site"] = f"/products/serum?ref=bench{creator:04d}"
        store.place_order(
            [Item(7001, 8001, "Glow serum", 2_400, 1 + n % 3), Item(7002, 8002, "Balm", 1_250)],
            customer_id=10_000 + n,
            tax_minor=300,
            shipping_minor=500,
            **attribution,
        )
    rows = [
        {
            "shop_id": shop_id,
            "platform": "sandbox",
            "topic": delivery.topic,
            "dedupe_key": f"{SHOP_DOMAIN}:{delivery.topic}:{delivery.event_id}",
            "shop_domain": SHOP_DOMAIN,
            "headers": {"x-sandbox-topic": delivery.topic},
            "body": delivery.body,
            "received_at": datetime.now(UTC),
            "status": "pending",
            "attempts": 0,
        }
        for delivery in store.deliveries
    ]
    ids = session.scalars(insert(WebhookEvent).returning(WebhookEvent.id), rows).all()
    session.commit()
    return list(ids)


def enqueue_all(backend: RQBackend, func: Any, ids: Sequence[int], prefix: str) -> list[str]:
    spec = spec_for(func)
    job_ids = [f"{prefix}-{event_id}" for event_id in ids]
    for event_id, job_id in zip(ids, job_ids, strict=True):
        backend.enqueue(spec, (event_id,), job_id)
    return job_ids


def drain(url: str, workers: int, job_ids: Sequence[str], redis: Redis, model: str) -> float:
    """Run `workers` burst workers until the queue is empty; returns jobs per second."""
    env = {
        **os.environ,
        "TASTEMAKER_DATABASE_URL": url,
        "TASTEMAKER_REDIS_URL": REDIS_URL,
        "TASTEMAKER_SECRET_KEY": SECRET_KEY,
        "TASTEMAKER_LOG_LEVEL": "WARNING",
        "TM_BENCH_WORKER": model,
    }
    command = [sys.executable, "-c", "import benchmarks.attribution as b; b.worker_main()"]
    processes = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(workers)
    ]
    for process in processes:
        if process.wait(timeout=600) != 0:
            raise RuntimeError(f"worker exited with {process.returncode}")
    jobs = [j for j in Job.fetch_many(list(job_ids), connection=redis) if j is not None]
    unfinished = [j.id for j in jobs if j.get_status() != "finished"]
    if len(jobs) != len(job_ids) or unfinished:
        raise RuntimeError(f"{len(unfinished)} jobs did not finish, e.g. {unfinished[:3]}")
    started = min(j.started_at for j in jobs if j.started_at is not None)
    ended = max(j.ended_at for j in jobs if j.ended_at is not None)
    durations = sorted(
        (j.ended_at - j.started_at).total_seconds()
        for j in jobs
        if j.started_at is not None and j.ended_at is not None
    )
    print(f"  median job (in work horse) {durations[len(durations) // 2] * 1000:.1f} ms")
    return len(jobs) / (ended - started).total_seconds()


def worker_main() -> None:
    """One worker process on the webhooks queue: `shipped` is exactly `tastemaker worker --burst
    --queues webhooks`; `fork` is the same with `--fork` (a forked work horse per job)."""
    from workers.rq_worker import run_worker

    model = os.environ.get("TM_BENCH_WORKER", "shipped")
    raise SystemExit(run_worker(["webhooks"], burst=True, fork=model == "fork"))


def check(session: Session, shop_id: int, events: int) -> str:
    processed = session.scalar(
        select(func.count(WebhookEvent.id)).where(
            WebhookEvent.shop_id == shop_id, WebhookEvent.status == "processed"
        )
    )
    orders = session.scalar(select(func.count(Order.id)).where(Order.shop_id == shop_id))
    commissions = session.scalar(
        select(func.count(LedgerEntry.id)).where(
            LedgerEntry.shop_id == shop_id, LedgerEntry.kind == "commission"
        )
    )
    if processed != events:
        raise RuntimeError(f"only {processed} of {events} events processed")
    return f"{processed} events processed, {orders} orders, {commissions} commissions"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--worker-model",
        choices=("shipped", "fork"),
        default="shipped",
        help="shipped: tastemaker worker as shipped (default); fork: tastemaker worker --fork",
    )
    args = parser.parse_args(argv)
    # Registered under the module's real name, as the worker processes see it.
    from benchmarks import attribution as this
    from workers.jobs.webhooks import process_webhook_event

    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    backend = RQBackend(REDIS_URL)
    store = SandboxStore(SHOP_DOMAIN, "unused", transport=lambda *_: 200)
    app_rates: list[float] = []
    noop_rates: list[float] = []
    try:
        with fresh_schema() as url:
            engine = make_engine(url)
            with Session(engine) as session:
                shop_id = seed(session)
                for round_number in range(1, args.rounds + 1):
                    ids = record_events(session, shop_id, store, args.events)
                    job_ids = enqueue_all(backend, process_webhook_event, ids, f"a{round_number}")
                    app_rates.append(drain(url, args.workers, job_ids, redis, args.worker_model))
                    job_ids = enqueue_all(backend, this.noop, ids, f"n{round_number}")
                    noop_rates.append(drain(url, args.workers, job_ids, redis, args.worker_model))
                    print(
                        f"round {round_number}: attribution {app_rates[-1]:.0f} events/s, "
                        f"no-op {noop_rates[-1]:.0f} jobs/s "
                        f"({check(session, shop_id, round_number * len(ids))})"
                    )
            engine.dispose()
    finally:
        redis.flushdb()
        redis.close()
    app, baseline = statistics.median(app_rates), statistics.median(noop_rates)
    print(
        f"median over {args.rounds} rounds of {args.events} events, {args.workers} "
        f"{args.worker_model} workers: "
        f"attribution {app:.0f} events/s, no-op baseline {baseline:.0f} jobs/s, "
        f"ratio {app / baseline:.2f}"
    )
    verdict = "meets" if app >= GOAL_EVENTS_PER_SECOND else "misses"
    print(f"goal >= {GOAL_EVENTS_PER_SECOND:.0f} events/s: {verdict}")
    return 0 if app >= GOAL_EVENTS_PER_SECOND else 1


if __name__ == "__main__":
    raise SystemExit(main())
