"""Periodic reconciliation: every active shop's recently changed orders, one job per shop."""

from __future__ import annotations

from plugin.db import get_session
from plugin.ingest import reconcile
from workers.registry import job
from workers.runtime import enqueue


@job("periodic", timeout=120, retry_intervals=())
def reconcile_all_shops() -> int:
    sent = 0
    for shop_id in reconcile.active_shop_ids(get_session()):
        if not enqueue(reconcile_shop, shop_id):
            break  # queue down: the next run catches up, last_synced_at has not moved
        sent += 1
    return sent


@job("periodic", timeout=900, retry_intervals=(30, 120, 600))
def reconcile_shop(shop_id: int) -> int:
    return reconcile.reconcile_shop(get_session(), shop_id)
