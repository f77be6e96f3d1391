"""In-process webhook counters: what each platform's deliveries became, and why any were refused.

One instance per app (per process under gunicorn): cheap enough to bump on every request, and a
rejection spike (a rotated secret, a misconfigured store) shows up without reading the logs.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

EXTENSION_KEY = "tastemaker.webhook_stats"


class WebhookStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outcomes: Counter[tuple[str, str]] = Counter()
        self._rejections: Counter[tuple[str, str]] = Counter()

    def outcome(self, platform: str, outcome: str, count: int = 1) -> None:
        if count <= 0:
            return
        with self._lock:
            self._outcomes[(platform, outcome)] += count

    def rejected(self, platform: str, reason: str) -> None:
        with self._lock:
            self._rejections[(platform, reason)] += 1

    def rejections(self, platform: str) -> dict[str, int]:
        with self._lock:
            return {reason: n for (name, reason), n in self._rejections.items() if name == platform}

    def snapshot(self) -> dict[str, dict[str, dict[str, int]]]:
        """{"accepted": {platform: {outcome: n}}, "rejected": {platform: {reason: n}}}."""
        with self._lock:
            return {
                "accepted": _nest(self._outcomes),
                "rejected": _nest(self._rejections),
            }


def _nest(counter: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (platform, label), count in sorted(counter.items()):
        nested.setdefault(platform, {})[label] = count
    return nested


def stats_for(app: Flask | None = None) -> WebhookStats:
    from flask import current_app

    target = app or current_app
    stats: WebhookStats = target.extensions.setdefault(EXTENSION_KEY, WebhookStats())
    return stats
