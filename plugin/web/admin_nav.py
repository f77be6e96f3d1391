"""The merchant pages' navigation: one list, rendered as the standalone navigation and (when
embedded in the Shopify admin) as App Bridge's `<ui-nav-menu>`."""

from __future__ import annotations

from typing import NamedTuple


class NavItem(NamedTuple):
    label: str
    endpoint: str


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Dashboard", "pages.dashboard"),
    NavItem("Lift tests", "lift_pages.index"),
)
