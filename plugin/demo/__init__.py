"""`tastemaker demo`: the embedded default with seeded stores, served on localhost.

Each demo part is a module with `start(app, base_url) -> list[str]`: it starts what it needs
(simulated platform servers, seed data, simulated traffic through the real HTTP endpoints) and
returns lines to print. Parts run in DEMO_PARTS order once the app is serving.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from pathlib import Path

from werkzeug.serving import make_server

DEMO_PARTS = (
    "plugin.demo.sandbox",
    "plugin.demo.contracts",
    "plugin.demo.ugc",
    "plugin.demo.creators",
    "plugin.demo.admin_story",
    "plugin.demo.shopify",
    "plugin.demo.woocommerce",
    "plugin.demo.lift",
)

logger = logging.getLogger(__name__)


def run_demo(*, host: str, port: int, serve: bool = True) -> int:
    from plugin import create_app
    from plugin.migrate import upgrade
    from plugin.settings import load_settings
    from workers.backends import InProcessBackend
    from workers.runtime import get_backend
    from workers.schedule import start_embedded_scheduler

    base_url = f"http://{host}:{port}"
    instance = Path(os.environ.get("TASTEMAKER_INSTANCE_DIR") or Path.cwd() / "instance")
    database = instance / "demo.sqlite3"
    for stale in instance.glob("demo.sqlite3*"):
        stale.unlink()  # every demo starts from the same seed
    settings = load_settings().with_overrides(
        database_url=f"sqlite:///{database}",
        redis_url=None,
        public_url=base_url,
        spool_dir=instance / "demo-spool",
        media_dir=instance / "demo-media",
    )
    upgrade(settings.database_url)
    app = create_app(settings)

    # Request lines would bury the banner (printed last, below): only warnings from the server.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, app, threaded=True)
    server_thread = threading.Thread(target=server.serve_forever, name="demo-http", daemon=True)
    server_thread.start()
    stop = threading.Event()
    start_embedded_scheduler(app, stop)

    lines: list[str] = []
    for name in DEMO_PARTS:
        module = importlib.import_module(name)
        lines.extend(module.start(app, base_url))
        backend = get_backend(app)
        if isinstance(backend, InProcessBackend):
            backend.drain(timeout=60)

    # From here on only warnings reach the console, so the banner stays the last thing shown.
    logging.getLogger().setLevel(logging.WARNING)
    print("\nTastemaker demo is running (SQLite + in-process jobs).\n")
    for line in lines:
        print(line)
    if not serve:
        stop.set()
        server.shutdown()
        return 0
    print("\nPress Ctrl-C to stop.")
    try:
        server_thread.join()
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        stop.set()
        server.shutdown()
    return 0
