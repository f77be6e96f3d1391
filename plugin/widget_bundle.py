"""The storefront widget as shipped: minified, the carousel's CSS inlined, content-hashed names.

widgets/src holds the readable sources; `build_bundle()` turns them into what shoppers download:
- `ugc-loader.js`: the loader, minified, naming the hashed carousel file. Merchants embed this
  name, so it is the one file served under a stable URL (cached briefly).
- `ugc-carousel.<hash>.js`: the carousel, minified, with its stylesheet inlined as a string for
  a constructed stylesheet (`adoptedStyleSheets`): no second request, nothing render-blocking.
- `ugc-carousel.<hash>.css`: the same stylesheet, fetched only by browsers without constructed
  stylesheets.
- `ugc-loader.<hash>.js`: the loader under an immutable name, for pages that render the bundle's
  current name (the demo page, the Shopify theme block's asset, WordPress).
Hashed names never change content, so they are cached for a year; each file is also kept
gzipped (level 9), so serving costs no compression work.

The minifiers (rjsmin, rcssmin) only drop comments and whitespace: the shipped code is the source,
statement for statement.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import rcssmin
import rjsmin

from plugin.manifest import ROOT

SRC = ROOT / "widgets" / "src"
LOADER = "ugc-loader.js"
CAROUSEL = "ugc-carousel.js"
STYLES = "ugc-carousel.css"
# Placeholders in the sources, replaced here: the loader names the carousel file, the carousel
# carries its CSS. Unbuilt sources still work (plain names, the CSS by <link>).
CAROUSEL_NAME_PLACEHOLDER = "'ugc-carousel.js'"
STYLES_NAME_PLACEHOLDER = "'ugc-carousel.css'"
CSS_PLACEHOLDER = "'__TASTEMAKER_CSS__'"
JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"


@dataclass(frozen=True)
class BuiltFile:
    name: str
    body: bytes
    gzipped: bytes
    content_type: str
    immutable: bool

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass(frozen=True)
class Bundle:
    files: dict[str, BuiltFile]
    loader: str  # the hashed loader's name
    carousel: str
    styles: str
    stamp: tuple[int, ...]  # source mtimes it was built from


def _hashed(name: str, body: bytes) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{hashlib.sha256(body).hexdigest()[:10]}{dot}{suffix}"


def _file(name: str, body: bytes, content_type: str, *, immutable: bool) -> BuiltFile:
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    return BuiltFile(name, body, gzipped, content_type, immutable)


def _replace_once(text: str, token: str, value: str, source: str) -> str:
    if text.count(token) != 1:
        raise ValueError(f"{source} must contain {token} exactly once")
    return text.replace(token, value)


def build_bundle(src: Path = SRC) -> Bundle:
    css = rcssmin.cssmin((src / STYLES).read_text()).strip()
    styles_name = _hashed(STYLES, css.encode())
    carousel_js = _replace_once(
        rjsmin.jsmin((src / CAROUSEL).read_text()), CSS_PLACEHOLDER, json.dumps(css), CAROUSEL
    )
    carousel_name = _hashed(CAROUSEL, carousel_js.encode())
    loader_js = rjsmin.jsmin((src / LOADER).read_text())
    for placeholder, name in (
        (CAROUSEL_NAME_PLACEHOLDER, carousel_name),
        (STYLES_NAME_PLACEHOLDER, styles_name),
    ):
        loader_js = _replace_once(loader_js, placeholder, json.dumps(name), LOADER)
    loader_name = _hashed(LOADER, loader_js.encode())
    files = [
        _file(LOADER, loader_js.encode(), JS, immutable=False),
        _file(loader_name, loader_js.encode(), JS, immutable=True),
        _file(carousel_name, carousel_js.encode(), JS, immutable=True),
        _file(styles_name, css.encode(), CSS, immutable=True),
    ]
    return Bundle(
        files={built.name: built for built in files},
        loader=loader_name,
        carousel=carousel_name,
        styles=styles_name,
        stamp=_stamp(src),
    )


def _stamp(src: Path) -> tuple[int, ...]:
    return tuple((src / name).stat().st_mtime_ns for name in (LOADER, CAROUSEL, STYLES))


_lock = threading.Lock()
_current: Bundle | None = None


def current_bundle() -> Bundle:
    """The bundle of the sources on disk (rebuilt when a source changes, e.g. in development)."""
    global _current
    bundle = _current
    if bundle is not None and bundle.stamp == _stamp(SRC):
        return bundle
    with _lock:
        if _current is None or _current.stamp != _stamp(SRC):
            _current = build_bundle()
        return _current
