"""What the merchant and creator browser tests share: the app served on a free port, Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from plugin.db import get_db
from plugin.settings import Settings

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def serving(app: Flask, settings: Settings, database_url: str) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) and yield its base URL, its public URL."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{http.server_port}"
    app.config["TASTEMAKER"] = settings.with_overrides(
        database_url=database_url, public_url=base_url
    )
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        http.shutdown()
        thread.join(timeout=10)
        get_db(app).dispose()


@contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """Debian's Chromium, headless (never a downloaded browser), with `extra_args`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, *extra_args]
        )
        yield instance
        instance.close()
