"""The `tastemaker` command: db upgrade, serve, worker, cron, sweep, demo."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from plugin.serve import add_arguments as add_serve_arguments
from plugin.settings import ConfigurationError, load_settings

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tastemaker", description="Affiliate and UGC tracking for Shopify and WooCommerce."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply Alembic migrations up to head")

    serve = commands.add_parser("serve", help="serve the app (granian; see plugin/serve.py)")
    add_serve_arguments(serve)

    worker = commands.add_parser("worker", help="run an RQ worker (with the retry scheduler)")
    worker.add_argument(
        "--queues",
        default="webhooks,codes,rewards,payouts,email,periodic",
        help="comma-separated queue names, in priority order",
    )
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    worker.add_argument(
        "--fork",
        action="store_true",
        help="run each job in a forked process (isolation over speed)",
    )

    metrics = commands.add_parser("metrics", help="metric rollups")
    metrics_commands = metrics.add_subparsers(
        dest="metrics_command", required=True, metavar="ACTION"
    )
    rebuild = metrics_commands.add_parser(
        "rebuild",
        help="rebuild rollups from the raw rows, one day per transaction (resumes if interrupted)",
    )
    rebuild.add_argument("--shop", type=int, default=None, help="only this shop id")
    rebuild.add_argument(
        "--restart", action="store_true", help="start over instead of resuming an interrupted run"
    )
    metrics_commands.add_parser(
        "prune-clicks", help="delete raw clicks older than each shop's retention"
    )

    commands.add_parser("cron", help="run the periodic-job scheduler (run exactly one)")
    commands.add_parser("sweep", help="enqueue webhook events and codes left pending")

    demo = commands.add_parser("demo", help="run the embedded demo on SQLite")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=5000)
    demo.add_argument("--no-serve", action="store_true", help="seed and exit (for checks)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        load_settings()
    except ConfigurationError as exc:
        print(f"tastemaker: configuration error: {exc}", file=sys.stderr)
        return 2
    handlers = {
        "db": _db,
        "serve": _serve,
        "worker": _worker,
        "cron": _cron,
        "sweep": _sweep,
        "metrics": _metrics,
        "demo": _demo,
    }
    return handlers[args.command](args)


def _db(args: argparse.Namespace) -> int:
    from plugin.migrate import upgrade

    upgrade(load_settings().database_url)
    print("database is at head")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from plugin.serve import serve

    return serve(args, production=load_settings().is_production)


def _worker(args: argparse.Namespace) -> int:
    from workers.rq_worker import run_worker

    return run_worker(
        [name.strip() for name in args.queues.split(",") if name.strip()],
        burst=args.burst,
        fork=args.fork,
    )


def _cron(args: argparse.Namespace) -> int:
    from workers.schedule import run_cron

    return run_cron()


def _sweep(args: argparse.Namespace) -> int:
    from plugin import create_app
    from workers.schedule import sweep_once

    app = create_app()
    with app.app_context():
        counts = sweep_once()
    print(", ".join(f"{name}: {count}" for name, count in counts.items()) or "nothing pending")
    return 0


def _metrics(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from plugin import create_app
    from plugin.db import get_db
    from plugin.models import Shop, utcnow
    from plugin.services.click_retention import prune_shop_clicks
    from plugin.services.metrics_rebuild import rebuild_all, rebuild_shop

    app = create_app()
    with app.app_context():
        transaction = get_db().transaction
        if args.metrics_command == "prune-clicks":
            with transaction() as session:
                shop_ids = list(session.scalars(select(Shop.id).order_by(Shop.id)))
            for shop_id in shop_ids:
                pruned = prune_shop_clicks(transaction, shop_id, utcnow())
                print(f"shop {shop_id}: {pruned} raw clicks pruned")
            return 0
        if args.shop is not None:
            result = rebuild_shop(transaction, args.shop, restart=args.restart)
            if result is None:
                print(f"tastemaker: no shop {args.shop}", file=sys.stderr)
                return 1
            results = [result]
        else:
            results = rebuild_all(transaction, restart=args.restart)
    for done in results:
        how = "resumed and finished" if done.resumed else "rebuilt"
        print(f"shop {done.shop_id}: {how}, {done.days} days")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from plugin.demo import run_demo

    return run_demo(host=args.host, port=args.port, serve=not args.no_serve)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
