"""The pure rules: post links, handles, offers, code names, sprint state, credit and ranks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plugin.domain import rewards as rules
from plugin.domain.rewards import PostLink, Standing


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "https://instagram.com/p/Cx1/?igsh=abc#frag",
            PostLink("instagram", "https://www.instagram.com/p/Cx1"),
        ),
        (
            "  https://m.tiktok.com/@lena/video/7301  ",
            PostLink("tiktok", "https://www.tiktok.com/@lena/video/7301"),
        ),
        ("https://vm.tiktok.com/ZMabc/", PostLink("tiktok", "https://vm.tiktok.com/ZMabc")),
        (
            "https://m.youtube.com/watch?v=dQw4w9WgXcQ&t=42s",
            PostLink("youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ),
        ("https://youtu.be/dQw4w9WgXcQ", PostLink("youtube", "https://youtu.be/dQw4w9WgXcQ")),
        (
            "https://WWW.Instagram.com:443/reel/R1",
            PostLink("instagram", "https://www.instagram.com/reel/R1"),
        ),
    ],
)
def test_post_links_on_known_networks_are_normalized(raw: str, expected: PostLink) -> None:
    assert rules.parse_post_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "http://www.instagram.com/p/Cx1/",  # not https
        "https://instagram.com.evil.example/p/Cx1",  # look-alike host
        "https://evil.example/www.instagram.com/p/Cx1",
        "https://user@www.instagram.com/p/Cx1",  # credentials
        "https://www.instagram.com:8443/p/Cx1",  # odd port
        "https://www.instagram.com/",  # no post
        "https://www.youtube.com/watch?list=abc",  # no video
        "javascript:alert(1)",
        "https://www.instagram.com/p/a b",
        "https://www.instagram.com/p/" + "x" * 600,
        "",
    ],
)
def test_other_links_are_refused(raw: str) -> None:
    assert rules.parse_post_url(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("@lena.daily", "lena.daily"), (" jo_runs ", "jo_runs"), ("a" * 30, "a" * 30)],
)
def test_handles_lose_their_at_sign(raw: str, expected: str) -> None:
    assert rules.normalize_handle(raw) == expected


@pytest.mark.parametrize("raw", ["", "@", "a" * 31, "<b>x</b>", "two words"])
def test_bad_handles_are_refused(raw: str) -> None:
    assert rules.normalize_handle(raw) is None


def test_order_numbers_match_with_or_without_the_hash() -> None:
    assert rules.order_number_variants(" #1001 ") == ("1001", "#1001")
    assert rules.order_number_variants("1001") == ("1001", "#1001")
    assert rules.order_number_variants("1001; drop") is None


@pytest.mark.parametrize(
    ("kind", "value", "days", "errors"),
    [
        ("percentage", 1500, 30, {}),
        ("fixed_amount", 500, 1, {}),
        ("percentage", 10_001, 30, {"discount_value": "must be between 1 and 10000 basis points"}),
        ("fixed_amount", 0, 30, {"discount_value": "must be between 1 and 1000000000 minor units"}),
        ("free_shipping", 1, 30, {"discount_kind": "must be one of: percentage, fixed_amount"}),
        ("percentage", 1500, 0, {"code_valid_days": "must be between 1 and 365"}),
    ],
)
def test_offer_rules(kind: str, value: int, days: int, errors: dict[str, str]) -> None:
    assert rules.offer_errors(kind, value, days) == errors


@pytest.mark.parametrize(
    ("kind", "value", "currency", "text"),
    [
        ("percentage", 1500, "USD", "15% off"),
        ("percentage", 1250, "USD", "12.5% off"),
        ("fixed_amount", 500, "EUR", "EUR 5.00 off"),
        ("fixed_amount", 500, "JPY", "JPY 500 off"),
    ],
)
def test_offers_read_as_shoppers_expect(kind: str, value: int, currency: str, text: str) -> None:
    assert rules.describe_offer(kind, value, currency) == text


def test_reward_codes_are_prefixed_and_unambiguous() -> None:
    digits = iter(range(100))
    code = rules.new_reward_code("TAG", lambda n: next(digits) % n)
    assert code == "TAG-ABCDEFGH"
    assert rules.CODE_RE.fullmatch(rules.new_reward_code("TAG"))
    assert not set("01ILO") & set(rules.CODE_ALPHABET)


def test_the_next_code_is_an_untried_store_suggestion_or_a_fresh_one() -> None:
    assert rules.next_code(["TAG-A"], ["tag-a", "TAG-A1"], lambda: "FRESH") == "TAG-A1"
    assert rules.next_code(["TAG-A"], ["TAG-A", "<bad>"], lambda: "FRESH") == "FRESH"


START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "settled", "state"),
    [
        (START - timedelta(seconds=1), None, "scheduled"),
        (START, None, "running"),
        (END - timedelta(seconds=1), None, "running"),
        (END, None, "ended"),
        (END, END, "settled"),
    ],
)
def test_sprint_states(now: datetime, settled: datetime | None, state: str) -> None:
    assert rules.sprint_state(START, END, settled, now) == state


def test_sprint_windows() -> None:
    assert rules.window_errors(START, END) == {}
    assert rules.window_errors(END, START) == {"ends_at": "must be after starts_at"}
    assert rules.window_errors(START, START + timedelta(days=367)) == {
        "ends_at": "must be at most 366 days after starts_at"
    }


@pytest.mark.parametrize(
    ("orders", "cap", "credit"), [(0, None, 0), (3, None, 150), (3, 120, 120), (2, 120, 100)]
)
def test_sprint_credit_is_per_order_and_capped(orders: int, cap: int | None, credit: int) -> None:
    assert rules.sprint_credit(orders, 50, cap) == credit


def test_standings_rank_by_orders_and_share_ranks_on_ties() -> None:
    standings = rules.rank_standings([(3, 5), (1, 5), (2, 7), (4, 0), (5, 1)], 50, 200)
    assert standings == [
        Standing(rank=1, creator_id=2, orders=7, credit_minor=200),
        Standing(rank=2, creator_id=1, orders=5, credit_minor=200),
        Standing(rank=2, creator_id=3, orders=5, credit_minor=200),
        Standing(rank=4, creator_id=5, orders=1, credit_minor=50),
    ]
    assert rules.settlement_key(7, 42) == "sprint:7:creator:42"
