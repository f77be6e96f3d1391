"""Static files for storefronts: the widget scripts and styles, and uploaded UGC media.

Widget files are the built bundle (plugin.widget_bundle: minified, the carousel's CSS inlined,
content-hashed names), built from widgets/src on first use. Hashed names are immutable and
cached for a year. The plain names (`ugc-loader.js`, which merchants embed, and the carousel's
`ugc-carousel.js` / `.css`) are cached for an hour and revalidated; so is a hashed name this
build does not know (a page or loader cached from an older deploy), which gets the current file
rather than a 404. Every file is served gzipped when the browser accepts it (kept compressed in
memory). Media file names are content hashes, so they are immutable too.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_from_directory
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from plugin.widget_bundle import CAROUSEL, LOADER, STYLES, BuiltFile, current_bundle

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=3600, stale-while-revalidate=86400"
_OLDER_BUILD = re.compile(r"(ugc-loader|ugc-carousel)\.[0-9a-f]{10}\.(js|css)")


def widget_version() -> str:
    """The bundle's version: the hash in the current loader's name."""
    return current_bundle().loader.split(".")[1]


def loader_name() -> str:
    """The current loader under its immutable name (for pages rendered by this app)."""
    return current_bundle().loader


def _lookup(name: str) -> tuple[BuiltFile, bool]:
    """The built file for `name` and whether it may be cached as immutable."""
    bundle = current_bundle()
    built = bundle.files.get(name)
    if built is not None:
        return built, built.immutable
    plain = {
        CAROUSEL: bundle.carousel,
        STYLES: bundle.styles,
    }
    match = _OLDER_BUILD.fullmatch(name)
    if match is not None:
        plain_name = f"{match[1]}.{match[2]}"
        current = LOADER if plain_name == LOADER else plain.get(plain_name)
        if current is not None and (plain_name != STYLES or match[2] == "css"):
            return bundle.files[current], False
    if name in plain:
        return bundle.files[plain[name]], False
    raise NotFound()


def widget_file(name: str) -> ResponseReturnValue:
    built, immutable = _lookup(name)
    headers = {
        "ETag": built.etag,
        "Cache-Control": IMMUTABLE if immutable else REVALIDATE,
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if built.etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(built.gzipped, content_type=built.content_type, headers=headers)
    return Response(built.body, content_type=built.content_type, headers=headers)


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
