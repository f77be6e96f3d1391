"""Storefront UGC feed on a cache hit, under granian (or gunicorn), against a bare Flask route.

    .venv/bin/python -m benchmarks.storefront [--rounds 3] [--seconds 10] [--workers 2]

Needs wrk (`apt-get install -y wrk`) and the PostgreSQL (db `test`) the tests use. A fresh schema
is migrated with Alembic, seeded with a shop, a product catalog and 12 approved posts holding
on-site rights, and dropped afterwards. The app (`plugin.wsgi:app`, production settings) and a
bare one-route Flask app answering the same JSON bytes run side by side under the same server
settings; each round measures both with wrk (closed loop), alternately. Every app request is a
cache hit after the warm-up: one indexed query (shop + feed version), then the cached body.
Also printed: the feed's gzipped size for 12 posts, and the widget's gzipped sizes.
Goals: throughput >= 0.7x the bare route's; feed <= 8 KB gzipped.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask, Response
from sqlalchemy.orm import Session

from benchmarks._util import SERVERS, fresh_schema, serve
from plugin.db import make_engine
from plugin.models import Shop, utcnow
from plugin.services import ugc as service
from plugin.services import ugc_rights as rights
from plugin.services.media import remote_media
from plugin.tenancy import Tenant

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_KEY = "pk_benchstorefront"
FEED_PATH = f"/storefront/{PUBLIC_KEY}/ugc?product=101"
GOAL_RATIO = 0.7
GOAL_GZIP_BYTES = 8 * 1024
BODY_ENV = "TM_BENCH_BODY_FILE"


def bare_app() -> Flask:
    """The baseline: one route answering the same JSON bytes from memory, nothing else."""
    app = Flask(__name__)
    body = Path(os.environ[BODY_ENV]).read_bytes()

    @app.get("/storefront/<key>/ugc")
    def feed(key: str) -> Response:
        return Response(body, mimetype="application/json")

    return app


def seed(url: str) -> None:
    """A shop with three products and 12 eligible posts with realistic captions."""
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        shop = Shop(platform="sandbox", domain="bench.example", public_key=PUBLIC_KEY)
        session.add(shop)
        session.flush()
        tenant = Tenant(session, shop.id)
        service.upsert_products(
            tenant,
            [
                {
                    "product_id": str(product),
                    "title": f"Everyday product number {product}",
                    "price_minor": 4900 + product,
                    "currency": "USD",
                    "variant_id": f"4{product}0000123",
                    "url": f"/products/everyday-product-{product}",
                }
                for product in (101, 102, 103)
            ],
        )
        for index in range(12):
            media = remote_media(
                f"https://cdn.shopify.com/s/files/1/0000/{index:04d}/ugc-{secrets.token_hex(8)}.jpg",
                width=1080,
                height=1350,
                hosts=("cdn.shopify.com",),
            )
            caption = (f"Post {index}: " + " ".join(secrets.token_urlsafe(5) for _ in range(40)))[
                :300
            ]
            post = service.create_post(
                tenant,
                source="merchant",
                media=[media],
                caption=caption,
                author_handle=f"creator.number.{index}",
                network="instagram",
                post_url=f"https://www.instagram.com/p/{secrets.token_urlsafe(8)}/",
                product_ids=["101", "102", "103"],
            )
            service.moderate(tenant, post, "approve")
            grant = rights.request_rights(
                tenant, post, scopes=["on_site"], request_text="May we?", duration_days=365
            )
            rights.grant_rights(
                tenant, grant, reply_text="yes", consented_at=utcnow() - timedelta(days=1)
            )
    engine.dispose()


def wrk(port: int, seconds: int, connections: int) -> float:
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}{FEED_PATH}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None or "Non-2xx" in output:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(rate[1])


def widget_sizes() -> list[tuple[str, int, int]]:
    spec = importlib.util.spec_from_file_location(
        "widgets_check_size", ROOT / "widgets/check_size.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return [(budget.name, size, budget.limit) for budget, size in module.measure()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server", choices=SERVERS, default="granian")
    args = parser.parse_args()

    rates: dict[str, list[float]] = {"bare": [], "app": []}
    with ExitStack() as stack:
        url = stack.enter_context(fresh_schema())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tm-storefront-")))
        seed(url)
        app_env = {
            "TASTEMAKER_ENV": "production",
            "TASTEMAKER_DATABASE_URL": url,
            "TASTEMAKER_SECRET_KEY": secrets.token_hex(16),
            "TASTEMAKER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "TASTEMAKER_PUBLIC_URL": "https://tastemaker.bench",
            "TASTEMAKER_SPOOL_DIR": str(work / "spool"),
            "TASTEMAKER_MEDIA_DIR": str(work / "media"),
            "TASTEMAKER_LOG_LEVEL": "WARNING",
        }
        app = stack.enter_context(
            serve(args.server, "plugin.wsgi:app", workers=args.workers, env=app_env)
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{app.port}{FEED_PATH}") as response:
            body = response.read()
        posts = body.count(b'"author"')
        body_file = work / "feed.json"
        body_file.write_bytes(body)
        bare = stack.enter_context(
            serve(
                args.server,
                "benchmarks.storefront:bare_app()",
                workers=args.workers,
                env={BODY_ENV: str(body_file)},
            )
        )
        servers = {"bare": bare, "app": app}
        for server in servers.values():  # warm both: imports, pools, every worker's cache
            wrk(server.port, 2, args.connections)
        for round_number in range(args.rounds):
            order = ("bare", "app") if round_number % 2 == 0 else ("app", "bare")
            for name in order:
                rate = wrk(servers[name].port, args.seconds, args.connections)
                rates[name].append(rate)
                print(f"round {round_number + 1} {name:>4}: {rate:8.0f} req/s", flush=True)

    median = {name: statistics.median(values) for name, values in rates.items()}
    ratio = median["app"] / median["bare"]
    zipped = len(gzip.compress(body, compresslevel=6))
    print(
        f"\nmedians of {args.rounds} rounds, {args.server} {args.workers} workers, "
        f"{args.connections} connections:\n"
        f"  bare route        {median['bare']:8.0f} req/s\n"
        f"  storefront feed   {median['app']:8.0f} req/s (cache hit)\n"
        f"  throughput ratio  {ratio:.2f} (goal >= {GOAL_RATIO})\n"
        f"  feed JSON for {posts} posts: {len(body)} B, {zipped} B gzipped "
        f"(goal <= {GOAL_GZIP_BYTES} B)"
    )
    print("widget, gzipped:")
    within = True
    for name, size, limit in widget_sizes():
        within = within and size <= limit
        print(f"  {name:<32} {size:>6} B of {limit} B")
    ok = ratio >= GOAL_RATIO and zipped <= GOAL_GZIP_BYTES and posts == 12 and within
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
