"""Storefront beacon events (impressions, clicks, add-to-cart) and the CTR built from them.

Like plugin.services.ugc, nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from plugin.models import Creator, utcnow
from plugin.models.ugc import UgcPost, UgcWidgetEvent


def record_widget_events(
    session: Session,
    shop_id: int,
    events: Iterable[Mapping[str, Any]],
    *,
    visitor_hash: str,
    now: datetime | None = None,
) -> int:
    """Store beacon events for posts of this shop; events naming other posts are dropped."""
    batch = list(events)
    post_ids = {int(event["post"]) for event in batch}
    known = set(
        session.scalars(
            select(UgcPost.id).where(UgcPost.shop_id == shop_id, UgcPost.id.in_(post_ids))
        )
    )
    when = now or utcnow()
    rows = [
        UgcWidgetEvent(
            shop_id=shop_id,
            ugc_post_id=int(event["post"]),
            kind=str(event["type"]),
            product_id=event.get("product"),
            visitor_hash=visitor_hash,
            occurred_at=when,
        )
        for event in batch
        if int(event["post"]) in known
    ]
    session.add_all(rows)
    return len(rows)


@dataclass(frozen=True)
class CtrRow:
    key: int
    label: str
    impressions: int
    clicks: int

    @property
    def ctr_bps(self) -> int:
        return ctr_bps(self.clicks, self.impressions)


def ctr_bps(clicks: int, impressions: int) -> int:
    """Click-through rate in basis points, rounded half up; 0 without impressions."""
    return 0 if impressions <= 0 else (clicks * 10_000 * 2 + impressions) // (impressions * 2)


def ctr_by_post(session: Session, shop_id: int, since: datetime | None = None) -> list[CtrRow]:
    return _ctr(session, shop_id, since, UgcPost.id, UgcPost.author_handle)


def ctr_by_creator(session: Session, shop_id: int, since: datetime | None = None) -> list[CtrRow]:
    return _ctr(session, shop_id, since, Creator.id, Creator.handle)


def _ctr(
    session: Session, shop_id: int, since: datetime | None, key: Any, label: Any
) -> list[CtrRow]:
    """One SQL aggregate; a click is a click on the post or an add-to-cart from its slide."""
    impressions = func.sum(case((UgcWidgetEvent.kind == "impression", 1), else_=0))
    clicks = func.sum(case((UgcWidgetEvent.kind != "impression", 1), else_=0))
    query = (
        select(key, label, impressions, clicks)
        .select_from(UgcWidgetEvent)
        .join(UgcPost, UgcPost.id == UgcWidgetEvent.ugc_post_id)
        .where(UgcWidgetEvent.shop_id == shop_id, UgcPost.shop_id == shop_id)
        .group_by(key, label)
        .order_by(key.asc())
    )
    if key is Creator.id:
        query = query.join(Creator, Creator.id == UgcPost.creator_id)
    if since is not None:
        query = query.where(UgcWidgetEvent.occurred_at >= since)
    return [
        CtrRow(key=row[0], label=row[1], impressions=int(row[2] or 0), clicks=int(row[3] or 0))
        for row in session.execute(query)
    ]
