"""The merchant pages' navigation: one list, rendered as the standalone navigation and (when
embedded in the Shopify admin) as App Bridge's `<ui-nav-menu>`."""

from __future__ import annotations

from typing import NamedTuple


class NavItem(NamedTuple):
    label: str
    endpoint: str


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Dashboard", "pages.dashboard"),
    NavItem("Performance", "merchant.performance"),
    NavItem("Creators", "merchant.creators"),
    NavItem("Applications", "joining.applications"),
    NavItem("Invitations", "joining.invitations"),
    NavItem("Contracts", "contracts_admin.overview"),
    NavItem("Codes & links", "merchant.codes"),
    NavItem("Campaigns", "merchant.campaigns"),
    NavItem("Content", "merchant.content"),
    NavItem("Try & Tag", "merchant.try_and_tag"),
    NavItem("Sprints", "merchant.sprints"),
    NavItem("Payouts", "merchant.payouts"),
    NavItem("Lift tests", "lift_pages.index"),
    NavItem("Settings", "merchant.settings"),
    NavItem("API keys", "admin_keys.keys"),
    NavItem("Outbox", "outbox.outbox"),
)
