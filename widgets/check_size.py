"""Size budget of the storefront widget, in gzipped bytes (what a shopper downloads).

    .venv/bin/python widgets/check_size.py     # prints the table; exit status 1 when over budget

Measured on the built bundle (plugin/widget_bundle.py: minified, the CSS inlined in the carousel
script): the loader alone <= 5 KB; all widget JavaScript (loader + carousel, CSS included)
<= 10 KB; the carousel's CSS <= 2 KB. Gzip level 9, as the app, CDNs and Shopify serve them.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from plugin.widget_bundle import build_bundle

SRC = Path(__file__).resolve().parent / "src"
LOADER = "ugc-loader.js"
SCRIPTS = ("ugc-loader.js", "ugc-carousel.js")
STYLES = ("ugc-carousel.css",)
KB = 1024


@dataclass(frozen=True)
class Budget:
    name: str
    files: tuple[str, ...]
    limit: int


BUDGETS = (
    Budget("loader JS", (LOADER,), 5 * KB),
    Budget("widget JS (loader + carousel)", SCRIPTS, 10 * KB),
    Budget("widget CSS", STYLES, 2 * KB),
)


def built_files(src: Path = SRC) -> dict[str, bytes]:
    """The shipped bytes of each source file's built counterpart."""
    bundle = build_bundle(src)
    built = {
        LOADER: bundle.loader,
        "ugc-carousel.js": bundle.carousel,
        "ugc-carousel.css": bundle.styles,
    }
    return {name: bundle.files[shipped].body for name, shipped in built.items()}


def gzipped_size(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=9, mtime=0))


def measure(src: Path = SRC) -> list[tuple[Budget, int]]:
    files = built_files(src)
    return [(budget, sum(gzipped_size(files[name]) for name in budget.files)) for budget in BUDGETS]


def main(argv: Sequence[str] = ()) -> int:
    src = Path(argv[0]) if argv else SRC
    over = False
    files = built_files(src)
    for name in (*SCRIPTS, *STYLES):
        raw = (src / name).stat().st_size
        print(
            f"{name:<34} {raw:>7} B source {len(files[name]):>7} B built "
            f"{gzipped_size(files[name]):>7} B gzipped"
        )
    for budget, size in measure(src):
        verdict = "ok" if size <= budget.limit else "OVER BUDGET"
        over = over or size > budget.limit
        print(f"{budget.name:<34} {size:>7} B of {budget.limit:>6} B  {verdict}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
