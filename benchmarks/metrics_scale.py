"""Metrics at a busy shop's scale: rollups against the raw-query path, on PostgreSQL.

    .venv/bin/python -m benchmarks.metrics_scale [--sizes 1M/100k,10M/1M] [--rounds 20]
        [--raw-rounds 3] [--days 400] [--creators 200]

For each size (clicks/orders), a fresh schema is seeded through bulk SQL (generate_series) with
one shop (America/New_York) of `--creators` creators, a link each (a quarter of them in one of
four campaigns, one per KPI a campaign page charts), clicks spread over `--days` days from 60%
as many visitors, orders over the same days, 40% of them attributed (a third through a link, the
rest by code) with one commission ledger entry each, 5% refunded, plus flat fees and
adjustments. Then:
- `tastemaker metrics rebuild --shop` builds the rollups from those raw rows (time and the
  rebuild process's peak memory are reported);
- every metrics API call (creators, campaigns, summary, uplift; creators filtered by a campaign,
  summary and campaigns by a creator) and the dashboard page, for 30, 90, 365 and 731 days,
  and the pages with charts (performance and a creator's page for 7, 30 and 90 days, the page
  of a campaign of each KPI for its own days), served by `tastemaker serve` (granian, 2 workers,
  production settings), `--rounds` calls each: p50 and p95;
- the same service calls in this process from the rollups and, as the baseline, from the raw
  rows (`source="raw"`, the query path the rollups replace), `--raw-rounds` calls each: the
  ratio of the medians.
Goal (issue 14): p95 <= 200 ms for every call at 10M clicks / 1M orders.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from benchmarks._util import fresh_schema, granian
from plugin.db import make_engine
from plugin.models import Agreement, Campaign, Creator, ReferralLink, Shop, utcnow
from plugin.services import metrics
from plugin.services.shops import issue_api_key

TASTEMAKER = str(Path(sys.executable).with_name("tastemaker"))
PERIODS = (30, 90, 365, 731)
CALLS = ("creators", "campaigns", "summary", "uplift")
# The same calls narrowed by a filter, over HTTP: (label, call, parameter)
FILTERED = (
    ("creators/campaign", "creators", "campaign_id"),
    ("summary/creator", "summary", "creator_id"),
    ("campaigns/creator", "campaigns", "creator_id"),
)
GOAL_P95_MS = 200.0
# The admin pages with charts (the daily rollups), over their own periods: (label, path)
CHART_PAGES = (
    ("performance page", "/admin/performance"),
    ("creator page", "/admin/creators/{creator_id}"),
)
CHART_PERIODS = (7, 30, 90)
CAMPAIGN_KPIS = ("revenue", "orders", "clicks", "new_customers")


def parse_size(value: str) -> tuple[int, int]:
    def number(part: str) -> int:
        part = part.strip().lower()
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        return int(float(part.rstrip("km")) * scale)

    clicks, orders = value.split("/")
    return number(clicks), number(orders)


def seed(url: str, clicks: int, orders: int, days: int, creators: int) -> tuple[int, str]:
    """The shop, its creators and links through the ORM; the bulk through generate_series."""
    engine = make_engine(url)
    with Session(engine) as session:
        shop = Shop(
            platform="sandbox",
            domain="busy.example",
            public_key="pk_busy",
            timezone="America/New_York",
            hold_days=0,
        )
        session.add(shop)
        session.flush()
        # One campaign per KPI its page charts: the first three from the daily rollups, new
        # customers from the campaign's own raw orders.
        campaigns = [
            Campaign(shop_id=shop.id, name=f"Campaign {kpi}", format="live_drop", primary_kpi=kpi)
            for kpi in CAMPAIGN_KPIS
        ]
        session.add_all(campaigns)
        session.flush()
        for n in range(creators):
            creator = Creator(shop_id=shop.id, handle=f"creator{n:03d}")
            session.add(creator)
            session.flush()
            campaign_id = campaigns[n // 4 % 4].id if n % 4 == 0 else None
            session.add(
                Agreement(
                    shop_id=shop.id,
                    creator_id=creator.id,
                    campaign_id=campaign_id,
                    commission_rate_bps=1000,
                    currency="USD",
                )
            )
            session.add(
                ReferralLink(
                    shop_id=shop.id,
                    creator_id=creator.id,
                    campaign_id=campaign_id,
                    slug=f"busy{n:05d}",
                )
            )
        _, key = issue_api_key(session, shop.id, "bench")
        session.commit()
        shop_id = shop.id
    params = {"shop": shop_id, "days": days, "clicks": clicks, "orders": orders}
    with engine.begin() as connection:
        # Bulk-load speed: no per-row foreign-key triggers (the rows are built consistent), and
        # the clicks' secondary indexes built once afterwards instead of row by row.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        indexes = connection.execute(text(CLICK_INDEXES)).all()
        uniques = connection.execute(text(CLICK_UNIQUES)).all()
        for name, _ in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
        for name, _ in uniques:
            connection.execute(text(f'ALTER TABLE clicks DROP CONSTRAINT "{name}"'))
        for statement in SEED_SQL:
            started = time.monotonic()
            connection.execute(text(statement), params)
            print(f"  seeded {statement.split()[2]:<16} in {time.monotonic() - started:6.1f} s")
        started = time.monotonic()
        for _, definition in indexes:
            connection.execute(text(definition))
        for name, definition in uniques:
            connection.execute(text(f'ALTER TABLE clicks ADD CONSTRAINT "{name}" {definition}'))
        print(f"  indexed clicks          in {time.monotonic() - started:6.1f} s")
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return shop_id, key


CLICK_INDEXES = (
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    " AND tablename = 'clicks' AND indexname NOT IN"
    " (SELECT conname FROM pg_constraint WHERE conrelid = 'clicks'::regclass)"
)
CLICK_UNIQUES = (
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE conrelid = 'clicks'::regclass AND contype = 'u'"
)
SEED_SQL = (
    # Link n of the shop, numbered from 0, with its creator, agreement and campaign.
    "CREATE TEMP TABLE busy_links AS SELECT row_number() OVER (ORDER BY l.id) - 1 AS n,"
    " l.id AS link_id, l.creator_id, l.campaign_id, a.id AS agreement_id"
    " FROM referral_links l JOIN agreements a ON a.creator_id = l.creator_id"
    " WHERE l.shop_id = :shop",
    "INSERT INTO clicks (shop_id, link_id, creator_id, click_uid, occurred_at, visitor_hash,"
    " referrer_host)"
    " SELECT :shop, l.link_id, l.creator_id, md5('click' || g), now() - random() * make_interval("
    "days => :days), md5('visitor' || floor(random() * :clicks * 0.6)::bigint), NULL"
    " FROM generate_series(0, :clicks - 1) AS g"
    " JOIN busy_links l ON l.n = (g::bigint * 7919) % (SELECT count(*) FROM busy_links)",
    "INSERT INTO orders (shop_id, platform_order_id, order_number, status, currency,"
    " presentment_currency, subtotal_minor, discount_minor, tax_minor, shipping_minor,"
    " total_minor, net_item_revenue_minor, presentment_total_minor, customer_ref,"
    " is_first_order, is_test, discount_codes, line_items, placed_at, platform_updated_at,"
    " paid_at, created_at, updated_at)"
    " SELECT :shop, g, 'B' || g, CASE WHEN g % 20 = 0 THEN 'partially_refunded'"
    " WHEN g % 50 = 1 THEN 'cancelled' ELSE 'paid' END, 'USD', 'USD', 5000 + g % 7000, 0, 0,"
    " 0, 5000 + g % 7000, 5000 + g % 7000, 5000 + g % 7000, 'customer' || (g % (:orders / 2 + 1)),"
    " g % 3 = 0, false, '[]', '[]', t, t, t, t, t"
    " FROM generate_series(1, :orders) AS g,"
    " LATERAL (SELECT now() - random() * make_interval(days => :days) + g * interval '0') AS x(t)",
    "INSERT INTO attributions (shop_id, order_id, creator_id, agreement_id, campaign_id,"
    " method, evidence, self_referral, created_at)"
    " SELECT :shop, o.id, l.creator_id, l.agreement_id, l.campaign_id,"
    " CASE WHEN o.platform_order_id % 3 = 0 THEN 'click' ELSE 'code' END, '{}', false,"
    " o.placed_at FROM orders o"
    " JOIN busy_links l ON l.n = o.platform_order_id % (SELECT count(*) FROM busy_links)"
    " WHERE o.shop_id = :shop AND o.platform_order_id % 5 < 2",
    "INSERT INTO ledger_entries (shop_id, creator_id, order_id, agreement_id, kind,"
    " amount_minor, currency, available_at, idempotency_key, reason, created_at)"
    " SELECT :shop, a.creator_id, a.order_id, a.agreement_id, 'commission',"
    " o.net_item_revenue_minor / 10, 'USD', o.placed_at, 'commission:' || o.platform_order_id,"
    " '', o.placed_at FROM attributions a JOIN orders o ON o.id = a.order_id"
    " WHERE a.shop_id = :shop",
    "INSERT INTO refunds (shop_id, platform_refund_id, platform_order_id, item_amount_minor,"
    " total_amount_minor, currency, refunded_at, applied_at, created_at)"
    " SELECT :shop, o.platform_order_id, o.platform_order_id, 1000, 1000, 'USD',"
    " o.placed_at + interval '3 days', o.placed_at + interval '3 days',"
    " o.placed_at + interval '3 days'"
    " FROM orders o WHERE o.shop_id = :shop AND o.platform_order_id % 20 = 0",
    "INSERT INTO ledger_entries (shop_id, creator_id, agreement_id, kind, amount_minor,"
    " currency, available_at, idempotency_key, reason, created_at)"
    " SELECT :shop, l.creator_id, l.agreement_id, k.kind, k.amount, 'USD', t, k.kind || ':' || l.n"
    " || ':' || m, '', t FROM busy_links l, generate_series(0, :days / 30) AS m,"
    " LATERAL (VALUES ('flat_fee', 15000), ('adjustment', -1000)) AS k(kind, amount),"
    " LATERAL (SELECT now() - m * interval '30 days') AS x(t)",
)


def rebuild(url: str, shop_id: int) -> tuple[float, float]:
    """`tastemaker metrics rebuild --shop`: (seconds, peak MB of the rebuild process)."""
    env = {
        **os.environ,
        "TASTEMAKER_DATABASE_URL": url,
        "TASTEMAKER_LOG_LEVEL": "WARNING",
    }
    started = time.monotonic()
    subprocess.run(
        [TASTEMAKER, "metrics", "rebuild", "--shop", str(shop_id), "--restart"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return time.monotonic() - started, peak_mb


def timed(call: Callable[[], Any], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def p(samples: list[float], percentile: int) -> float:
    if len(samples) == 1:
        return samples[0] * 1000
    return statistics.quantiles(samples, n=100, method="inclusive")[percentile - 1] * 1000


def sign_in(base: str, key: str) -> requests.Session:
    """A browser-like session signed in through the POST form (CSRF token and all). Production
    marks the session cookie Secure and this is plain http, so cookies are carried by hand."""
    page = requests.Session()

    def keep(response: requests.Response) -> requests.Response:
        for cookie in response.cookies:
            page.cookies.set(cookie.name, cookie.value or "")
        return response

    form = keep(page.get(f"{base}/admin", timeout=30, allow_redirects=False))
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if token is None:
        raise RuntimeError("no sign-in form at /admin")
    keep(
        page.post(
            f"{base}/admin/sign-in",
            data={"csrf_token": token.group(1), "api_key": key},
            timeout=30,
            allow_redirects=False,
        )
    )
    return page


def measure_http(
    base: str, key: str, rounds: int, filters: dict[str, int]
) -> dict[tuple[str, int], list[float]]:
    results: dict[tuple[str, int], list[float]] = {}
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    page = sign_in(base, key)
    now = utcnow()
    for days in PERIODS:
        period = {"start": (now - timedelta(days=days)).isoformat(), "end": now.isoformat()}
        requests_made = [(call, call, period) for call in CALLS] + [
            (label, call, {**period, parameter: str(filters[parameter])})
            for label, call, parameter in FILTERED
        ]
        for label, call, params in requests_made:
            url = f"{base}/api/v1/metrics/{call}"

            def get(url: str = url, params: dict[str, str] = params) -> None:
                response = api.get(url, params=params, timeout=120)
                response.raise_for_status()

            get()  # warm the worker's connection and caches
            results[(label, days)] = timed(get, rounds)

        def dashboard(days: int = days) -> None:
            response = page.get(f"{base}/admin", params={"days": days}, timeout=120)
            response.raise_for_status()
            if "Creator program" not in response.text:
                raise RuntimeError("the dashboard did not render (not signed in?)")

        dashboard()
        results[("dashboard", days)] = timed(dashboard, rounds)
    for label, path in CHART_PAGES:
        for days in CHART_PERIODS:
            url = base + path.format(**filters)
            results[(label, days)] = _page_times(page, url, {"days": str(days)}, rounds)
    # A campaign's page charts its own days (its dates, or the last 30 days), one per KPI.
    first = filters["campaign_id"]
    for offset, kpi in enumerate(CAMPAIGN_KPIS):
        url = f"{base}/admin/campaigns/{first + offset}"
        results[(f"campaign page, {kpi}", 0)] = _page_times(page, url, {}, rounds)
    return results


def _page_times(
    page: requests.Session, url: str, params: dict[str, str], rounds: int
) -> list[float]:
    def get() -> None:
        response = page.get(url, params=params, timeout=120, allow_redirects=False)
        response.raise_for_status()
        if response.status_code != 200 or 'name="api_key"' in response.text:
            raise RuntimeError(f"{url} did not render (not signed in?)")

    get()  # warm
    return timed(get, rounds)


def filters(url: str, shop_id: int) -> dict[str, int]:
    """A creator and a campaign of the shop to filter by (the first of each)."""
    engine = make_engine(url)
    with Session(engine) as session:
        creator = session.scalar(select(func.min(Creator.id)).where(Creator.shop_id == shop_id))
        campaign = session.scalar(select(func.min(Campaign.id)).where(Campaign.shop_id == shop_id))
    engine.dispose()
    return {"creator_id": int(creator or 0), "campaign_id": int(campaign or 0)}


def measure_service(
    url: str, shop_id: int, source: str, rounds: int
) -> dict[tuple[str, int], list[float]]:
    engine = make_engine(url)
    results: dict[tuple[str, int], list[float]] = {}
    now = utcnow()
    functions = {
        "creators": metrics.creator_metrics,
        "campaigns": metrics.campaign_metrics,
        "summary": metrics.shop_summary,
        "uplift": metrics.uplift,
    }
    with Session(engine) as session:
        for days in PERIODS:
            for call, function in functions.items():

                def run(function: Any = function, days: int = days) -> None:
                    function(
                        session, shop_id, start=now - timedelta(days=days), end=now, source=source
                    )
                    session.rollback()

                results[(call, days)] = timed(run, rounds)
    engine.dispose()
    return results


def run_size(clicks: int, orders: int, args: argparse.Namespace) -> bool:
    print(f"== {clicks:,} clicks / {orders:,} orders, {args.creators} creators, {args.days} days")
    ok = True
    with fresh_schema("tm_bench_metrics") as url, tempfile.TemporaryDirectory() as work:
        started = time.monotonic()
        shop_id, key = seed(url, clicks, orders, args.days, args.creators)
        print(f"  seeding: {time.monotonic() - started:.1f} s")
        seconds, peak = rebuild(url, shop_id)
        print(f"  tastemaker metrics rebuild: {seconds:.1f} s, peak memory {peak:.0f} MB")
        env = {
            "TASTEMAKER_ENV": "production",
            "TASTEMAKER_DATABASE_URL": url,
            "TASTEMAKER_SECRET_KEY": "bench-" + os.urandom(8).hex(),
            "TASTEMAKER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "TASTEMAKER_PUBLIC_URL": "https://tastemaker.bench",
            "TASTEMAKER_INSTANCE_DIR": work,
            "TASTEMAKER_LOG_LEVEL": "WARNING",
        }
        with granian("plugin.wsgi:app", workers=2, env=env) as server:
            http = measure_http(
                f"http://127.0.0.1:{server.port}", key, args.rounds, filters(url, shop_id)
            )
        rolled = measure_service(url, shop_id, "rollups", args.rounds)
        raw = measure_service(url, shop_id, "raw", args.raw_rounds)
    print(
        f"  {'call':<18} {'days':>4}  {'HTTP p50':>9} {'HTTP p95':>9}  "
        f"{'rollups p50':>11} {'raw p50':>9} {'raw/rollups':>11}"
    )
    for days in PERIODS:
        for call in (*CALLS, *(label for label, _, _ in FILTERED), "dashboard"):
            samples = http[(call, days)]
            p95 = p(samples, 95)
            ok &= p95 <= GOAL_P95_MS
            line = f"  {call:<18} {days:>4}  {p(samples, 50):>7.1f}ms {p95:>7.1f}ms"
            if (call, days) in rolled:
                fast = statistics.median(rolled[(call, days)]) * 1000
                slow = statistics.median(raw[(call, days)]) * 1000
                line += f"  {fast:>9.1f}ms {slow:>7.0f}ms {slow / fast:>10.0f}x"
            print(line)
    for (label, days), samples in http.items():
        if label in {name for name, _ in CHART_PAGES} or label.startswith("campaign page"):
            p95 = p(samples, 95)
            ok &= p95 <= GOAL_P95_MS
            shown = str(days) if days else "own"
            print(f"  {label:<28} {shown:>4}  {p(samples, 50):>7.1f}ms {p95:>7.1f}ms")
    verdict = "meets" if ok else "misses"
    print(f"  {verdict} the goal: p95 <= {GOAL_P95_MS:.0f} ms for every call, page and period")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1M/100k,10M/1M", help="clicks/orders, comma-separated")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--raw-rounds", type=int, default=3)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--creators", type=int, default=200)
    args = parser.parse_args()
    print("(the machine may be shared: compare the ratios, not the absolute times)")
    results = [run_size(*parse_size(size), args) for size in args.sizes.split(",")]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
