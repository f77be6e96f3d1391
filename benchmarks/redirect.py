"""Referral redirect `/r/<slug>` under `tastemaker serve` (granian) on PostgreSQL, against nginx
`return 302`, a raw WSGI 302 and a bare Flask 302 under the same server, in one run.

    .venv/bin/python -m benchmarks.redirect [--rounds 5] [--seconds 5] [--workers 2]

Needs wrk, nginx (Debian packages; `scripts/bench` installs them when missing), gcc and the
PostgreSQL (db `test`) the tests use. A fresh schema is migrated with Alembic, seeded with a
Shopify shop, a creator, an active code and a link, and dropped afterwards. Every server gets the
same `--workers` processes (nginx: worker_processes). Each round measures every server, in
alternating order:
- closed loop, keep-alive: wrk, `--connections` connections, `--seconds` seconds;
- closed loop, a new connection per request (`Connection: close`, what a browser following a
  creator's link does);
- open loop at 50% of that server's own new-connection capacity measured just before (so the
  rate scales with the machine), one connection per request, latency from each request's
  scheduled send time (benchmarks/openloop.c, compiled here): p50, p99, p99.9.
`/r/<slug>` also runs under gunicorn's sync worker (`--no-gunicorn` skips it): the server
`tastemaker serve` used before, for the before/after ratio.
Every app request is a counted click (a phone browser's user agent), so the app spools every
one, and the production flush runs throughout: `tastemaker cron` and `tastemaker worker
--queues periodic` on Redis database 13 (TASTEMAKER_BENCH_REDIS_URL), flushed before and after.
Before each closed-loop measurement the run waits until every click so far is stored, so the
measurement pays for flushing its own clicks, not the previous one's backlog. The open-loop runs
come right after the closed-loop bursts, so the flush of their backlog runs during them (its
effect on p99 is inside the figure). Then the flush's own two measurements
(benchmarks/redirect_flush.py): the drain after a `--burst` seconds burst with the flush running,
and its capacity on a burst's backlog spooled with the flush paused. Finally the stored clicks
are compared with the redirects the clients saw and with the clicks their rollup cells count.
Goals: new connection >= 0.75x nginx; keep-alive >= 0.25x nginx; p99 <= 5 ms at 50% of
capacity; flush >= 1.5x the redirect's closed-loop rate and the backlog drained within 10 s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks._util import (
    Server,
    cpu_seconds,
    fresh_schema,
    granian,
    gunicorn,
    process_tree,
)
from benchmarks.redirect_baselines import SHOP_DOMAIN
from benchmarks.redirect_flush import REDIS_URL, ClickCounter, measure_flush, periodic_flusher
from benchmarks.redirect_load import build_client, nginx, open_loop, wrk
from plugin.crypto import CredentialBox
from plugin.db import make_engine
from plugin.models import Campaign, Creator, DiscountCode
from plugin.serve import migrate_req_enabled
from plugin.services.links import create_link
from plugin.services.shops import create_or_reinstall_shop

SECRET_KEY = "benchmark-secret-key-" + secrets.token_hex(8)
GOAL_NEW_CONNECTION = 0.75
GOAL_KEEP_ALIVE = 0.25
GOAL_P99_MS = 5.0
CATCH_UP_TIMEOUT = 60.0


@dataclass
class Figures:
    keep_alive: list[float] = field(default_factory=list)
    new_connection: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    p999: list[float] = field(default_factory=list)
    # CPU time per request of the server's processes, new connection per request (from /proc:
    # steadier than rates on a shared machine, and it says where a gap in the rates comes from)
    cpu_us: list[float] = field(default_factory=list)

    def median(self, name: str) -> float:
        values: list[float] = getattr(self, name)
        return statistics.median(values) if values else float("nan")


def seed(url: str, encryption_key: str) -> str:
    engine = make_engine(url)
    box = CredentialBox(encryption_key, fallback_secret=SECRET_KEY)
    with Session(engine) as session, session.begin():
        # Advisory locks are per database, not per schema: a shop id of its own keeps the
        # rollups' per-shop lock (plugin.services.rollups) apart from the shops of other
        # benchmarks and tests running meanwhile in other schemas of the same database.
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('shops', 'id'), :start)"),
            {"start": secrets.randbelow(2**30) + 2**20},
        )
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


def caught_up(counter: ClickCounter, seen: int) -> None:
    """Waits until the flush has stored every click seen so far, so each closed-loop measurement
    pays for flushing its own clicks (the flush runs throughout) and not for the backlog of the
    one before: a 5 s keep-alive burst spools ~150k clicks, whose flush would otherwise fall into
    the next server's window (nginx's, or the app's own new-connection one)."""
    if counter.wait_for(seen, CATCH_UP_TIMEOUT).done is None:
        print(f"note: the flush had not caught up after {CATCH_UP_TIMEOUT:g} s; measuring anyway")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="granian Python threads/worker")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--burst", type=int, default=10, help="seconds of the flush burst")
    parser.add_argument("--no-gunicorn", action="store_true", help="skip the gunicorn run")
    args = parser.parse_args()

    encryption_key = Fernet.generate_key().decode()
    names = ["nginx", "raw", "flask", "app"] + ([] if args.no_gunicorn else ["app-gunicorn"])
    labels = {
        "nginx": "nginx `return 302`",
        "raw": "raw WSGI 302, granian",
        "flask": "bare Flask 302, granian",
        "app-gunicorn": "/r/<slug>, gunicorn sync (before)",
        "app": "/r/<slug>, tastemaker serve (granian)",
    }
    figures = {name: Figures() for name in names}
    # `tastemaker serve --listeners auto` gives each worker its own socket exactly then.
    per_worker = migrate_req_enabled()
    seen = 0
    with ExitStack() as stack:
        url = stack.enter_context(fresh_schema())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tm-redirect-")))
        slug = seed(url, encryption_key)
        path = f"/r/{slug}"
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
        flushing = stack.enter_context(ExitStack())  # closed before the final drain
        flusher = flushing.enter_context(periodic_flusher(app_env))
        counter = ClickCounter(url)
        stack.callback(counter.dispose)
        serving = {"threads": args.threads, "workers": args.workers}
        servers: dict[str, Server] = {
            "nginx": stack.enter_context(nginx(args.workers, work, reuseport=per_worker)),
            "raw": stack.enter_context(granian("benchmarks.redirect_baselines:raw", **serving)),
            "flask": stack.enter_context(
                granian("benchmarks.redirect_baselines:flask_app", **serving)
            ),
            "app": stack.enter_context(granian("plugin.wsgi:app", env=app_env, **serving)),
        }
        if not args.no_gunicorn:
            servers["app-gunicorn"] = stack.enter_context(
                gunicorn("plugin.wsgi:app", workers=args.workers, env=app_env)
            )
        for name in names:  # warm every server: imports, caches, pools
            for close in (False, True):
                _, done = wrk(servers[name].port, path, 2, args.connections, close=close)
                seen += done if name.startswith("app") else 0
        for round_number in range(args.rounds):
            order = names if round_number % 2 == 0 else names[::-1]
            for name in order:
                port, result = servers[name].port, figures[name]
                counts = name.startswith("app")
                caught_up(counter, seen)
                keep_alive, done_ka = wrk(port, path, args.seconds, args.connections, close=False)
                seen += done_ka if counts else 0
                caught_up(counter, seen)
                pids = process_tree(servers[name].process.pid)
                cpu_before = cpu_seconds(pids)
                new_conn, done_nc = wrk(port, path, args.seconds, args.connections, close=True)
                result.cpu_us.append((cpu_seconds(pids) - cpu_before) / done_nc * 1e6)
                rate = max(100, int(new_conn * 0.5))
                loop = open_loop(client, port, path, rate, args.seconds)
                if counts:
                    seen += done_nc + loop["statuses"]["3xx"]
                latency = loop["latency_us"]
                result.keep_alive.append(keep_alive)
                result.new_connection.append(new_conn)
                result.rate.append(rate)
                result.p50.append(latency["p50"] / 1000)
                result.p99.append(latency["p99"] / 1000)
                result.p999.append(latency["p99.9"] / 1000)
                print(
                    f"round {round_number + 1} {labels[name]:<40} keep-alive {keep_alive:8.0f}/s"
                    f" | new conn {new_conn:7.0f}/s | open loop {rate}/s: p50 "
                    f"{latency['p50'] / 1000:.2f} ms, p99 {latency['p99'] / 1000:.2f} ms, p99.9 "
                    f"{latency['p99.9'] / 1000:.2f} ms (errors {loop['errors']}, dropped "
                    f"{loop['dropped']}, 3xx {loop['statuses']['3xx']}/{loop['sent']})",
                    flush=True,
                )
        # The flush: let it catch up, then a burst, then a burst with the flush paused.
        flush, seen = measure_flush(
            counter,
            flusher,
            lambda seconds: wrk(servers["app"].port, path, seconds, args.connections, close=True),
            args.burst,
            seen,
        )
        flushing.close()  # cron and worker stopped: the drain below sees every segment
        stored = counter.final_drain(spool_dir)
        in_cells = counter.count()

    m = {name: {k: figures[name].median(k) for k in vars(Figures())} for name in names}
    app = m["app"]
    ratio_nc = app["new_connection"] / m["nginx"]["new_connection"]
    ratio_ka = app["keep_alive"] / m["nginx"]["keep_alive"]
    closed_loop = app["new_connection"]
    print(
        f"\nmedians of {args.rounds} rounds of {args.seconds:g} s; {args.workers} processes per "
        f"server, granian {args.threads} threads each; wrk {args.connections} connections; "
        f"{os.cpu_count()} CPUs; "
        + (
            "a listening socket per worker (net.ipv4.tcp_migrate_req=1; nginx: reuseport)"
            if per_worker
            else "the workers share one listening socket (net.ipv4.tcp_migrate_req=0)"
        )
    )
    print(
        f"{'server / app':<42}{'keep-alive/s':>13}{'new conn/s':>12}{'open loop/s':>12}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'p99.9 ms':>9}{'CPU us/req':>11}"
    )
    for name in names:
        f = m[name]
        print(
            f"{labels[name]:<42}{f['keep_alive']:>13.0f}{f['new_connection']:>12.0f}"
            f"{f['rate']:>12.0f}{f['p50']:>8.2f}{f['p99']:>8.2f}{f['p999']:>9.2f}"
            f"{f['cpu_us']:>11.1f}"
        )
    print(
        f"server CPU per new-connection request: /r/<slug> {app['cpu_us']:.1f} us, raw WSGI "
        f"{m['raw']['cpu_us']:.1f} us (the redirect's own Python and spool write: "
        f"{app['cpu_us'] - m['raw']['cpu_us']:.1f} us), nginx {m['nginx']['cpu_us']:.1f} us"
    )
    # Each round measures every server once, so a round's ratio pairs runs minutes apart at most.
    per_round = ", ".join(
        f"{a / n:.2f}"
        for a, n in zip(figures["app"].new_connection, figures["nginx"].new_connection, strict=True)
    )
    print(
        f"/r/<slug> vs nginx: new connection {ratio_nc:.3f}x (goal >= {GOAL_NEW_CONNECTION}; "
        f"per round {per_round}), keep-alive {ratio_ka:.2f}x (goal >= {GOAL_KEEP_ALIVE})\n"
        f"/r/<slug> vs bare Flask (same server): new connection "
        f"{app['new_connection'] / m['flask']['new_connection']:.2f}x, keep-alive "
        f"{app['keep_alive'] / m['flask']['keep_alive']:.2f}x; vs raw WSGI: new connection "
        f"{app['new_connection'] / m['raw']['new_connection']:.2f}x"
    )
    if "app-gunicorn" in m:
        before = m["app-gunicorn"]
        print(
            f"/r/<slug> granian vs gunicorn sync: new connection "
            f"{app['new_connection'] / before['new_connection']:.2f}x, keep-alive "
            f"{app['keep_alive'] / before['keep_alive']:.2f}x"
        )
    print(
        f"p99 at 50% of its own capacity ({app['rate']:.0f}/s): {app['p99']:.2f} ms "
        f"(goal <= {GOAL_P99_MS} ms)"
    )
    print(flush.report(closed_loop, args.burst))
    print(
        f"clicks: {seen} redirects seen by the clients, {stored} stored, {in_cells} counted in "
        "their rollup cells"
    )
    ok = (
        ratio_nc >= GOAL_NEW_CONNECTION
        and ratio_ka >= GOAL_KEEP_ALIVE
        and app["p99"] <= GOAL_P99_MS
        and flush.meets_goals(closed_loop)
        and stored >= seen
        and in_cells == stored
    )
    print("every goal met" if ok else "a goal is not met (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
