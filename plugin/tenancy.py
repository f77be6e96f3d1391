"""Tenant scoping: every read and write of a shop's rows goes through a Tenant.

A query built here always carries `shop_id = :shop`, so a handler cannot forget it; a row of
another shop is simply not found.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from plugin.models.base import TenantMixin

T = TypeVar("T", bound=TenantMixin)


class CrossTenantWrite(Exception):
    """An object that belongs to another shop was handed to this tenant."""


class Tenant:
    def __init__(self, session: Session, shop_id: int) -> None:
        self.session = session
        self.shop_id = shop_id

    def select(self, model: type[T], *criteria: Any) -> Select[tuple[T]]:
        return select(model).where(model.shop_id == self.shop_id, *criteria)

    def get(self, model: type[T], row_id: int) -> T | None:
        return self.session.scalars(self.select(model, model.id == row_id)).first()  # type: ignore[attr-defined]

    def all(self, model: type[T], *criteria: Any) -> list[T]:
        return list(self.session.scalars(self.select(model, *criteria)))

    def first(self, model: type[T], *criteria: Any) -> T | None:
        return self.session.scalars(self.select(model, *criteria).limit(1)).first()

    def add(self, obj: T) -> T:
        current = getattr(obj, "shop_id", None)
        if current is not None and current != self.shop_id:
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to shop {current}")
        obj.shop_id = self.shop_id
        self.session.add(obj)
        return obj

    def owns(self, obj: TenantMixin | None) -> bool:
        return obj is not None and obj.shop_id == self.shop_id
