"""Creating referral links: unguessable slugs, and targets only on the merchant's own domain."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from plugin.models import Campaign, ReferralLink
from plugin.services import links
from plugin.services.links import InvalidLink, create_link, new_slug, normalize_target_path
from plugin.tenancy import Tenant
from tests.links.conftest import Store, make_store


def test_slugs_are_ten_base62_characters_from_the_csprng() -> None:
    # when
    slugs = [new_slug() for _ in range(2000)]
    # then
    assert all(re.fullmatch(r"[A-Za-z0-9]{10}", slug) for slug in slugs)
    assert len(set(slugs)) == 2000
    # all 62 symbols appear: the alphabet is not accidentally narrowed
    assert len(set("".join(slugs))) == 62


def test_create_link_stores_the_link_for_the_shop(session: Session, store: Store) -> None:
    # when
    link = create_link(
        session,
        store.shop.id,
        store.creator.id,
        target_path="/products/mug?variant=2",
        campaign_id=store.campaign.id,
        discount_code_id=store.code.id,
    )
    # then
    stored = Tenant(session, store.shop.id).get(ReferralLink, link.id)
    assert stored is link
    assert (stored.creator_id, stored.campaign_id, stored.discount_code_id) == (
        store.creator.id,
        store.campaign.id,
        store.code.id,
    )
    assert stored.target_path == "/products/mug?variant=2"
    assert stored.active is True


def test_a_slug_collision_is_retried(
    session: Session, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an existing link, and a slug source that first repeats its slug
    existing = create_link(session, store.shop.id, store.creator.id)
    slugs = iter([existing.slug, "FreshSlug1"])
    monkeypatch.setattr(links, "new_slug", lambda: next(slugs))
    # when
    link = create_link(session, store.shop.id, store.creator.id)
    # then
    assert link.slug == "FreshSlug1"
    assert session.query(ReferralLink).count() == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/", "/"),
        ("/products/mug", "/products/mug"),
        ("/collections/sale?sort=price-asc&page=2", "/collections/sale?sort=price-asc&page=2"),
        ("/products/café", "/products/caf%C3%A9"),
        ("/search?q=a%20b", "/search?q=a%20b"),
    ],
)
def test_target_paths_on_the_shops_domain_are_accepted(raw: str, expected: str) -> None:
    assert normalize_target_path(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "non-empty"),
        ("products/mug", "must start with '/'"),
        ("https://evil.example/", "must start with '/'"),
        ("//evil.example/path", "'//'"),
        ("/\\evil.example", "backslashes"),
        ("/%2F%2Fevil.example", "'//'"),
        ("/%5Cevil.example", "backslashes"),
        ("/a//b", "'//'"),
        ("/products/mug\r\nSet-Cookie: x=1", "control characters"),
        ("/products/%0d%0aLocation:%20x", "control characters"),
        ("/products/a mug", "whitespace"),
        ("/products/mug\x00", "control characters"),
        ("/products/mug#reviews", "fragment"),
        ("/products/mug?tm_click=mine", "tm_click"),
        ("/products/mug?UTM_SOURCE=x&utm_content=y", "utm_content, utm_source"),
        ("/" + "a" * 600, "at most 512"),
    ],
)
def test_target_paths_that_could_leave_the_shop_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidLink) as error:
        normalize_target_path(raw)
    assert error.value.field == "target_path"
    assert reason in error.value.message
    assert isinstance(error.value, ValueError)


def test_a_link_needs_the_shops_own_creator_campaign_and_code(
    session: Session, store: Store
) -> None:
    # given another shop's creator, campaign and code
    other = make_store(session, domain="other.example", handle="ben")
    own_campaign = Tenant(session, store.shop.id).add(Campaign(name="Own", format="live_drop"))
    session.flush()
    cases = [
        ({"creator_id": other.creator.id}, "creator_id"),
        ({"campaign_id": other.campaign.id}, "campaign_id"),
        ({"discount_code_id": other.code.id}, "discount_code_id"),
    ]
    for overrides, field in cases:
        arguments = {"creator_id": store.creator.id, "campaign_id": own_campaign.id, **overrides}
        creator_id = arguments.pop("creator_id")
        # when / then
        with pytest.raises(InvalidLink) as error:
            create_link(session, store.shop.id, creator_id, **arguments)
        assert error.value.field == field


def test_a_link_cannot_carry_another_creators_code(session: Session, store: Store) -> None:
    # given a second creator in the same shop
    second = make_store(session, domain="mugs.example", handle="cy")
    # when / then
    with pytest.raises(InvalidLink, match="belongs to another creator"):
        create_link(session, store.shop.id, second.creator.id, discount_code_id=store.code.id)
