"""Build the widget into the Shopify theme app extension's assets (minified, CSS inlined).

The files are plugin/widget_bundle.py's build of widgets/src under their plain names (Shopify's
`asset_url` adds its own version to each URL and its CDN compresses them): the loader, the
carousel with its CSS inlined, and the CSS for browsers without constructed stylesheets. They
are build output, committed so a clean checkout deploys (tests/shopify checks they equal a fresh
build); `make shopify-app` runs this before `shopify app deploy`, so widgets/src stays the one
source. `--check` writes nothing and exits 1 when a file is missing or
differs from a fresh build.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from plugin.widget_bundle import build_bundle

WIDGETS = Path(__file__).resolve().parent
SRC = WIDGETS / "src"
SHOPIFY_ASSETS = WIDGETS / "shopify" / "extensions" / "tastemaker-theme" / "assets"
FILES = ("ugc-loader.js", "ugc-carousel.js", "ugc-carousel.css")


def built() -> dict[str, bytes]:
    bundle = build_bundle(SRC)
    shipped = {FILES[0]: FILES[0], FILES[1]: bundle.carousel, FILES[2]: bundle.styles}
    return {name: bundle.files[source].body for name, source in shipped.items()}


def stale_copies(assets: Path = SHOPIFY_ASSETS) -> list[str]:
    files = built()
    return [
        name
        for name in FILES
        if not (assets / name).exists() or (assets / name).read_bytes() != files[name]
    ]


def copy_assets(assets: Path = SHOPIFY_ASSETS) -> None:
    assets.mkdir(parents=True, exist_ok=True)
    for name, body in built().items():
        (assets / name).write_bytes(body)
        print(f"built {name}")


def main(argv: Sequence[str] = ()) -> int:
    if "--check" in argv:
        stale = stale_copies()
        for name in stale:
            print(f"{SHOPIFY_ASSETS / name} differs from a fresh build: run widgets/build.py")
        return 1 if stale else 0
    copy_assets()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
