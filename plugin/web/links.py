"""GET /r/<slug>: the referral redirect, the hottest path of the app.

Per request: resolve the slug from the in-process cache, make a click id, append the click to the
local spool (unless a bot, a link preview, a prefetch or a HEAD), answer 302. No database, queue
or network call on the way; the click reaches the database through the spool flush
(plugin.services.clicks). Each process builds its own resolver, spool and flusher on first use.

It is answered by a small WSGI middleware in front of Flask rather than by a view: Flask's
request context, routing and response objects cost more than everything above together, and
under load that difference is what decides the tail latency (see benchmarks/redirect.py).
Nothing else of the app (sessions, hooks, error handlers) applies to this path.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from flask import Blueprint, Flask, current_app
from flask.blueprints import BlueprintSetupState
from jinja2 import Environment
from werkzeug.urls import iri_to_uri

from plugin.db import get_db
from plugin.domain.bots import is_bot, is_prefetch
from plugin.extensions import connectors
from plugin.services.click_flush import Flusher, flush_spool
from plugin.services.clicks import ClickRecorder, new_click_uid, spool_for
from plugin.services.link_cache import LinkResolver, LinkUnavailable, run_inline
from plugin.services.links import SLUG_PATTERN, ResolvedLink, load_link

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

bp = Blueprint("links", __name__)
logger = logging.getLogger(__name__)

EXTENSION_KEY = "tastemaker.links"
REFERRER_POLICY = "strict-origin-when-cross-origin"
PREFIX = "/r/"
_HEADERS = [("Cache-Control", "no-store"), ("Referrer-Policy", REFERRER_POLICY)]
_REDIRECT_HEADERS = [*_HEADERS, ("Content-Length", "0")]
# A WSGI answer: status line, headers, body.
Answer = tuple[str, list[tuple[str, str]], bytes]
_PURPOSE_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")


@dataclass
class LinkTracking:
    """One process's link cache, click recorder and flusher (rebuilt after a fork)."""

    pid: int
    resolver: LinkResolver
    recorder: ClickRecorder
    flusher: Flusher | None


_build_lock = threading.Lock()
# This process's id, kept current across forks: os.getpid() is a system call per redirect.
_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def tracking(app: Flask | None = None) -> LinkTracking:
    target: Flask = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state: LinkTracking | None = target.extensions.get(EXTENSION_KEY)
    if state is not None and state.pid == _pid:
        return state
    with _build_lock:
        state = target.extensions.get(EXTENSION_KEY)
        if state is None or state.pid != _pid:
            state = target.extensions[EXTENSION_KEY] = _build(target)
    return state


def _build(app: Flask) -> LinkTracking:
    settings = app.config["TASTEMAKER"]
    spool = spool_for(settings.spool_dir)

    def target_url(platform: str, domain: str, path: str, code: str | None) -> str:
        # Made an ASCII URI once here, so responses can skip re-encoding it (see _Redirect).
        return iri_to_uri(connectors(app).get(platform).link_target_url(domain, path, code))

    def load(slug: str) -> ResolvedLink | None:
        # The database is looked up at call time, so a replaced Database is honoured.
        with get_db(app).new_session() as session:
            return load_link(session, target_url, slug)

    def flush() -> int:
        return flush_spool(spool, get_db(app).transaction)

    # Tests run everything inline on their one connection. A served app refreshes links in the
    # background (the request serves the stale entry meanwhile). It flushes clicks itself only
    # in the embedded mode, which has no worker: with a queue, the periodic job flushes from
    # the worker, because a flush inside a web process holds its GIL in bursts and measurably
    # lengthens the redirect's tail latency (see benchmarks/redirect.py).
    background = not app.testing
    return LinkTracking(
        pid=os.getpid(),
        resolver=LinkResolver(
            load,
            ttl=float(settings.link_cache_seconds),
            refresh_runner=_BackgroundRunner().submit if background else run_inline,
        ),
        recorder=ClickRecorder(spool, settings.secret_key),
        flusher=Flusher(flush).start() if background and settings.embedded_queue else None,
    )


class _BackgroundRunner:
    """One daemon thread running submitted tasks in order (cache refreshes)."""

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, task: Callable[[], None]) -> None:
        self._tasks.put(task)
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name="tastemaker-link-refresh", daemon=True
                    )
                    self._thread.start()

    def _loop(self) -> None:
        while True:
            task = self._tasks.get()
            try:
                task()
            except Exception:  # one bad refresh (logged) must not stop all later ones
                logger.exception("referral link cache refresh failed")


def _counts(environ: dict[str, str], user_agent: str) -> bool:
    if environ.get("REQUEST_METHOD") == "HEAD" or is_bot(user_agent):
        return False
    for name in _PURPOSE_HEADERS:
        purpose = environ.get(name)
        if purpose is not None and is_prefetch(purpose):
            return False
    return True


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    app.wsgi_app = ReferralRedirects(app, app.wsgi_app)  # type: ignore[method-assign]


class ReferralRedirects:
    """Answers every request under /r/ and hands the rest to the app behind it."""

    def __init__(self, app: Flask, downstream: WSGIApplication) -> None:
        self.app = app
        self.downstream = downstream

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.downstream(environ, start_response)
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), *_REDIRECT_HEADERS])
            return []
        status, headers, body = follow(self.app, path[len(PREFIX) :], environ)
        start_response(status, headers)
        return [] if method == "HEAD" else [body]


def follow(app: Flask, slug: str, environ: WSGIEnvironment) -> Answer:
    """The status, headers and body that answer a request for `slug`."""
    if SLUG_PATTERN.fullmatch(slug) is None:
        return _not_found(None)
    state = tracking(app)
    try:
        link = state.resolver.resolve(slug)
    except LinkUnavailable:
        return _unavailable()
    if link is None or not link.active:
        return _not_found(link)
    now_ns = time.time_ns()
    click_uid = new_click_uid(now_ns)
    user_agent = environ.get("HTTP_USER_AGENT", "")
    # The visitor hash, made once: for the click, and for a link-holdout lift test's draw.
    visitor: str | None = None
    if _counts(environ, user_agent):
        visitor = state.recorder.visitor(environ.get("REMOTE_ADDR"), user_agent)
        state.recorder.record(
            link, click_uid, visitor=visitor, referrer=environ.get("HTTP_REFERER"), now_ns=now_ns
        )
    if not link.holdout_bps:
        visitor = None  # no draw to make
    elif visitor is None:
        visitor = state.recorder.visitor(environ.get("REMOTE_ADDR"), user_agent)
    # The destination was made an ASCII URI when the link was loaded (`target_url`) and the
    # click id is hex, so the Location goes out as built.
    return "302 Found", [("Location", link.location(click_uid, visitor)), *_REDIRECT_HEADERS], b""


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1.5rem;
color:#222;text-align:center}h1{font-size:1.6rem}p{color:#555;line-height:1.5}
a{color:#0b57d0}
</style></head>
<body><h1>{{ title }}</h1><p>{{ message }}</p>
{% if store_url %}<p><a href="{{ store_url }}">Visit the store</a></p>{% endif %}
</body></html>
"""


_TEMPLATE = Environment(autoescape=True).from_string(_PAGE)


def _page(status: str, extra: list[tuple[str, str]], **context: str | None) -> Answer:
    body = _TEMPLATE.render(**context).encode()
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *_HEADERS,
        *extra,
    ]
    return status, headers, body


def _not_found(link: ResolvedLink | None) -> Answer:
    return _page(
        "404 Not Found",
        [],
        title="This link is not active",
        message="The link you followed is unknown or no longer active. "
        "Please check it with whoever shared it.",
        store_url=link.store_url if link is not None else None,
    )


def _unavailable() -> Answer:
    return _page(
        "503 Service Unavailable",
        [("Retry-After", "5")],
        title="Please try again in a moment",
        message="We could not open this link just now. Reload the page in a few seconds.",
        store_url=None,
    )
