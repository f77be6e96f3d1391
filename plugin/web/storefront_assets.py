"""Static files for storefronts: the widget scripts and styles, and uploaded UGC media.

Widget files are served from widgets/src as written (no build step). A URL carrying the current
bundle version (`?v=<widget_version()>`) is immutable and cached for a year; the bare URL, which
merchants may embed directly, is cached for an hour and revalidated. Media file names are content
hashes, so they are immutable too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_from_directory
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from plugin.manifest import ROOT

WIDGET_DIR = ROOT / "widgets" / "src"
WIDGET_FILES = {
    "ugc-loader.js": "text/javascript; charset=utf-8",
    "ugc-carousel.js": "text/javascript; charset=utf-8",
    "ugc-carousel.css": "text/css; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=3600, stale-while-revalidate=86400"


@dataclass(frozen=True)
class Asset:
    body: bytes
    digest: str
    mtime_ns: int


_assets: dict[str, Asset] = {}


def widget_asset(name: str) -> Asset:
    path = WIDGET_DIR / name
    mtime_ns = path.stat().st_mtime_ns
    cached = _assets.get(name)
    if cached is None or cached.mtime_ns != mtime_ns:
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:16]
        cached = _assets[name] = Asset(body, digest, mtime_ns)
    return cached


def widget_version() -> str:
    """One version for the three files: the loader passes it on to what it loads."""
    combined = "".join(widget_asset(name).digest for name in sorted(WIDGET_FILES))
    return hashlib.sha256(combined.encode()).hexdigest()[:12]


def widget_file(name: str) -> ResponseReturnValue:
    if name not in WIDGET_FILES:
        raise NotFound()
    asset = widget_asset(name)
    etag = f'"{asset.digest}"'
    versioned = request.args.get("v") == widget_version()
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE if versioned else REVALIDATE,
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    return Response(asset.body, content_type=WIDGET_FILES[name], headers=headers)


def media_file(path: str) -> ResponseReturnValue:
    if not path.endswith(".webp"):
        raise NotFound()
    media_dir: Path = current_app.config["TASTEMAKER"].media_dir
    response = send_from_directory(media_dir, path, mimetype="image/webp", conditional=True)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/widgets/<name>", "widget_file", widget_file, methods=["GET"])
    bp.add_url_rule("/media/<path:path>", "media_file", media_file, methods=["GET"])
