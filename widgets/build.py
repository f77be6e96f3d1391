"""Copy the widget sources into the Shopify theme app extension's assets (they ship as written).

The copies are build output (gitignored): `make shopify-app` runs this before `shopify app
deploy`, so widgets/src stays the one source. `--check` copies nothing and exits 1 when a copy
is missing or differs from its source.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

WIDGETS = Path(__file__).resolve().parent
SRC = WIDGETS / "src"
SHOPIFY_ASSETS = WIDGETS / "shopify" / "extensions" / "tastemaker-theme" / "assets"
FILES = ("ugc-loader.js", "ugc-carousel.js", "ugc-carousel.css")


def stale_copies(assets: Path = SHOPIFY_ASSETS) -> list[str]:
    return [
        name
        for name in FILES
        if not (assets / name).exists() or (assets / name).read_bytes() != (SRC / name).read_bytes()
    ]


def copy_assets(assets: Path = SHOPIFY_ASSETS) -> None:
    assets.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(SRC / name, assets / name)
        print(f"copied {name}")


def main(argv: Sequence[str] = ()) -> int:
    if "--check" in argv:
        stale = stale_copies()
        for name in stale:
            print(f"{SHOPIFY_ASSETS / name} differs from {SRC / name}: run widgets/build.py")
        return 1 if stale else 0
    copy_assets()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
