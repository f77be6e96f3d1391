"""Size budget of the storefront widget, in gzipped bytes (what a shopper downloads).

    .venv/bin/python widgets/check_size.py     # prints the table; exit status 1 when over budget

Budgets: the loader alone <= 5 KB; all widget JavaScript (loader + carousel) <= 10 KB; the
carousel's CSS <= 2 KB. Gzip level 9, as CDNs and Shopify serve these files compressed.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def measure(src: Path = SRC) -> list[tuple[Budget, int]]:
    return [(budget, sum(gzipped_size(src / name) for name in budget.files)) for budget in BUDGETS]


def main(argv: Sequence[str] = ()) -> int:
    src = Path(argv[0]) if argv else SRC
    over = False
    for name in (*SCRIPTS, *STYLES):
        path = src / name
        print(f"{name:<34} {path.stat().st_size:>7} B raw {gzipped_size(path):>7} B gzipped")
    for budget, size in measure(src):
        verdict = "ok" if size <= budget.limit else "OVER BUDGET"
        over = over or size > budget.limit
        print(f"{budget.name:<34} {size:>7} B of {budget.limit:>6} B  {verdict}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
