"""`GET /` leads a newcomer to the merchant pages (the sign-in page when not signed in), and
`/favicon.ico` is the brand mark, so browsers stop logging a 404 on every page."""

from __future__ import annotations

import functools
from pathlib import Path

from flask import Response, current_app, redirect, url_for
from flask.typing import ResponseReturnValue

from plugin.web.merchant import bp


@bp.get("/")
def root() -> ResponseReturnValue:
    return redirect(url_for("pages.dashboard"))


@functools.cache
def _icon(static_folder: str) -> bytes:
    return (Path(static_folder) / "favicon.ico").read_bytes()


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    static = current_app.static_folder
    assert static is not None
    response = Response(_icon(static), mimetype="image/vnd.microsoft.icon")
    response.cache_control.max_age = 86_400
    response.cache_control.public = True
    return response
