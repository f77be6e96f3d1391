"""Referral redirect under gunicorn on PostgreSQL: `/r/<slug>` against a bare one-route Flask app.

    .venv/bin/python -m benchmarks.redirect [--rounds 3] [--seconds 10] [--rate 3000] [--workers 2]

Needs wrk (`apt-get install -y wrk`), gcc and the PostgreSQL (db `test`) the tests use. A fresh
schema is migrated with Alembic, seeded with a Shopify shop, a creator, an active code and a
link, and dropped afterwards. The app (`plugin.wsgi:app`, production settings) and a bare Flask
app whose one route answers the same 302 run side by side under the same gunicorn settings;
each round measures both, alternately:
- throughput: wrk, closed loop, `--connections` connections, `--seconds` seconds;
- latency at a fixed rate: the open-loop C client in benchmarks/openloop.c (compiled here), one
  connection per request, latency from each request's scheduled send time.
Every request is a counted click (a phone browser's user agent), so the app spools every one,
and the production flush runs throughout: `tastemaker cron` and `tastemaker worker --queues
periodic` on Redis database 13 (flushed before and after), flushing the spool into PostgreSQL
every few seconds. Afterwards the app is stopped, the rest of the spool drained, and the stored
clicks compared with the redirects the clients saw.
Goals: throughput >= 0.75x the bare app's; p99 <= 5 ms at 3,000 requests/s (medians of rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask, Response
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarks._util import fresh_schema, gunicorn
from plugin.crypto import CredentialBox
from plugin.db import make_engine
from plugin.models import Campaign, Click, Creator, DiscountCode
from plugin.services.clicks import flush_spool
from plugin.services.links import create_link
from plugin.services.shops import create_or_reinstall_shop
from plugin.spool import Spool

HERE = Path(__file__).resolve().parent
REDIS_URL = "redis://127.0.0.1:6379/13"
TASTEMAKER = str(Path(sys.executable).with_name("tastemaker"))
SECRET_KEY = "benchmark-secret-key-" + secrets.token_hex(8)
SHOP_DOMAIN = "bench-mugs.myshopify.com"
USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
GOAL_RATIO = 0.75
GOAL_P99_MS = 5.0


def bare_app() -> Flask:
    """The baseline: one route answering the same kind of 302, nothing else."""
    app = Flask(__name__)
    location = f"https://{SHOP_DOMAIN}/discount/BENCH10?redirect=/products/mug"
    headers = [
        ("Location", location),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]

    @app.get("/r/<slug>")
    def follow(slug: str) -> Response:
        return Response(status=302, headers=headers)

    return app


def seed(url: str, encryption_key: str) -> str:
    engine = make_engine(url)
    box = CredentialBox(encryption_key, fallback_secret=SECRET_KEY)
    with Session(engine) as session, session.begin():
        shop = create_or_reinstall_shop(
            session, box, platform="shopify", domain=SHOP_DOMAIN, credentials={}
        )
        creator = Creator(shop_id=shop.id, handle="bench")
        campaign = Campaign(shop_id=shop.id, name="Benchmark Drop", format="live_drop")
        session.add_all([creator, campaign])
        session.flush()
        code = DiscountCode(
            shop_id=shop.id,
            creator_id=creator.id,
            code="BENCH10",
            code_normalized="bench10",
            status="active",
        )
        session.add(code)
        session.flush()
        link = create_link(
            session,
            shop.id,
            creator.id,
            target_path="/products/mug",
            campaign_id=campaign.id,
            discount_code_id=code.id,
        )
        slug = link.slug
    engine.dispose()
    return slug


def build_client(directory: Path) -> Path:
    binary = directory / "openloop"
    subprocess.run(["gcc", "-O2", "-o", str(binary), str(HERE / "openloop.c"), "-lm"], check=True)
    return binary


def wrk(port: int, path: str, seconds: int, connections: int) -> tuple[float, int]:
    """Requests per second and requests completed, closed loop."""
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-H",
            f"User-Agent: {USER_AGENT}",
            f"http://127.0.0.1:{port}{path}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    done = re.search(r"(\d+) requests in", output)
    if rate is None or done is None or "Non-2xx" in output:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(rate[1]), int(done[1])


def open_loop(client: Path, port: int, path: str, rate: int, seconds: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("wb", suffix=".http") as request:
        request.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: text/html\r\nConnection: close\r\n\r\n".encode()
        )
        request.flush()
        output = subprocess.run(
            [str(client), str(port), str(rate), str(seconds), request.name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result: dict[str, Any] = json.loads(output)
    return result


@contextmanager
def periodic_flusher(env: dict[str, str]) -> Iterator[None]:
    """The production flush path: the cron scheduler and a worker on the periodic queue."""
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    full_env = {**os.environ, **env}
    processes = [
        subprocess.Popen(
            [TASTEMAKER, *command],
            env=full_env,
            cwd=HERE.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in (["cron"], ["worker", "--queues", "periodic"])
    ]
    try:
        yield
    finally:
        for process in processes:  # only the processes started here, by their own pid
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        redis.flushdb()
        redis.close()


def stored_clicks(url: str, spool_dir: Path) -> tuple[int, int]:
    """Clicks flushed while serving, and the total once the rest of the spool is drained."""
    engine = make_engine(url)
    count = select(func.count()).select_from(Click)
    with Session(engine) as session:
        by_app = int(session.scalar(count) or 0)

    @contextmanager
    def transaction() -> Iterator[Session]:
        with Session(engine) as session, session.begin():
            yield session

    # Every writer has stopped: wait for any flush still running, then take every segment.
    flush_spool(Spool(spool_dir, "clicks", fsync=False), transaction, wait=True, stale_after=0.0)
    with Session(engine) as session:
        total = int(session.scalar(count) or 0)
    engine.dispose()
    return by_app, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    encryption_key = Fernet.generate_key().decode()
    figures: dict[str, dict[str, list[float]]] = {
        name: {"rps": [], "p50": [], "p99": [], "p999": []} for name in ("bare", "app")
    }
    redirects_seen = 0
    gunicorn_flags = ["--worker-class", args.worker_class, "--threads", str(args.threads)]
    with ExitStack() as stack:
        url = stack.enter_context(fresh_schema())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tm-redirect-")))
        slug = seed(url, encryption_key)
        client = build_client(work)
        spool_dir = work / "spool"
        app_env = {
            "TASTEMAKER_ENV": "production",
            "TASTEMAKER_DATABASE_URL": url,
            "TASTEMAKER_SECRET_KEY": SECRET_KEY,
            "TASTEMAKER_ENCRYPTION_KEY": encryption_key,
            "TASTEMAKER_PUBLIC_URL": "https://tastemaker.bench",
            "TASTEMAKER_SPOOL_DIR": str(spool_dir),
            "TASTEMAKER_MEDIA_DIR": str(work / "media"),
            "TASTEMAKER_LOG_LEVEL": "WARNING",
            "TASTEMAKER_REDIS_URL": REDIS_URL,
            "SHOPIFY_API_KEY": "bench-key",
            "SHOPIFY_API_SECRET": "bench-secret",
        }
        flusher = stack.enter_context(ExitStack())  # closed before the final drain
        flusher.enter_context(periodic_flusher(app_env))
        servers = {
            "bare": stack.enter_context(
                gunicorn(
                    "benchmarks.redirect:bare_app()", workers=args.workers, extra=gunicorn_flags
                )
            ),
        }
        with gunicorn(
            "plugin.wsgi:app", workers=args.workers, env=app_env, extra=gunicorn_flags
        ) as app_server:
            servers["app"] = app_server
            path = f"/r/{slug}"
            for name, server in servers.items():  # warm both: imports, caches, pools
                _, done = wrk(server.port, path, 2, args.connections)
                redirects_seen += done if name == "app" else 0
            for round_number in range(args.rounds):
                order = ("bare", "app") if round_number % 2 == 0 else ("app", "bare")
                for name in order:
                    rps, done = wrk(servers[name].port, path, args.seconds, args.connections)
                    loop = open_loop(client, servers[name].port, path, args.rate, args.seconds)
                    if name == "app":
                        redirects_seen += done + loop["statuses"]["3xx"]
                    latency = loop["latency_us"]
                    figures[name]["rps"].append(rps)
                    figures[name]["p50"].append(latency["p50"] / 1000)
                    figures[name]["p99"].append(latency["p99"] / 1000)
                    figures[name]["p999"].append(latency["p99.9"] / 1000)
                    print(
                        f"round {round_number + 1} {name:>4}: {rps:8.0f} req/s closed loop | "
                        f"{args.rate}/s open loop: p50 {latency['p50'] / 1000:.2f} ms, "
                        f"p99 {latency['p99'] / 1000:.2f} ms, p99.9 "
                        f"{latency['p99.9'] / 1000:.2f} ms, max {latency['p100'] / 1000:.1f} ms "
                        f"(sent {loop['sent']}, ok {loop['completed']}, errors {loop['errors']}, "
                        f"dropped {loop['dropped']}, 3xx {loop['statuses']['3xx']})",
                        flush=True,
                    )
        flusher.close()  # cron and worker stopped: the drain below sees every segment
        flushed_live, clicks = stored_clicks(url, spool_dir)

    median = {name: {k: statistics.median(v) for k, v in f.items()} for name, f in figures.items()}
    ratio = median["app"]["rps"] / median["bare"]["rps"]
    print(
        f"\nmedians of {args.rounds} rounds, gunicorn {args.workers} {args.worker_class} workers"
        f" x {args.threads} threads:\n"
        f"  bare app   {median['bare']['rps']:8.0f} req/s, p99 at {args.rate}/s "
        f"{median['bare']['p99']:.2f} ms\n"
        f"  /r/<slug>  {median['app']['rps']:8.0f} req/s, p99 at {args.rate}/s "
        f"{median['app']['p99']:.2f} ms (p50 {median['app']['p50']:.2f} ms, "
        f"p99.9 {median['app']['p999']:.2f} ms)\n"
        f"  throughput ratio {ratio:.2f} (goal >= {GOAL_RATIO}); "
        f"p99 {median['app']['p99']:.2f} ms (goal <= {GOAL_P99_MS} ms)\n"
        f"  clicks: {redirects_seen} redirects seen by the clients, {flushed_live} flushed by "
        f"the periodic job while serving, {clicks} stored after draining the spool"
    )
    ok = ratio >= GOAL_RATIO and median["app"]["p99"] <= GOAL_P99_MS and clicks >= redirects_seen
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
