"""The disclosure check on captions (pure)."""

from __future__ import annotations

import pytest

from plugin.domain.disclosure import check_disclosure, clean_phrases, disclosure_label


@pytest.mark.parametrize(
    ("caption", "matches"),
    [
        ("New jacket! #ad", ("#ad",)),
        ("#AD loving this", ("#ad",)),
        ("so good!#ad", ("#ad",)),
        ("#sponsored by my favourite shop", ("#sponsored",)),
        ("Paid Partnership with Acme", ("paid partnership",)),
        ("paid\n  partnership with Acme", ("paid partnership",)),
        ("\uff30\uff21\uff29\uff24 partnership (full-width letters)", ("paid partnership",)),
        ("#ad #sponsored", ("#ad", "#sponsored")),
    ],
)
def test_disclosures_are_found(caption: str, matches: tuple[str, ...]) -> None:
    result = check_disclosure(caption)
    assert result.disclosed is True
    assert result.matches == matches


@pytest.mark.parametrize(
    "caption",
    [
        "",
        "Best #adventure ever",
        "#advertising is everywhere",
        "##ad",
        "made by a #sponsoredathlete",
        "a partnership that is paid for",
        "read my email@ad.com",
    ],
)
def test_lookalikes_are_not_disclosures(caption: str) -> None:
    result = check_disclosure(caption)
    assert result.disclosed is False
    assert result.matches == ()
    assert result.flagged is True


def test_configurable_phrases_are_matched_too() -> None:
    # when
    result = check_disclosure("Trying it out #Werbung", extra_phrases=["#werbung", "  "])
    # then
    assert result.matches == ("#werbung",)


def test_a_disclosure_buried_after_the_fold_counts_but_is_flagged() -> None:
    caption = "x" * 130 + " #ad"
    result = check_disclosure(caption)
    assert (result.disclosed, result.prominent, result.flagged) == (True, False, True)


def test_a_prominent_disclosure_is_not_flagged() -> None:
    result = check_disclosure("#ad " + "x" * 300)
    assert (result.disclosed, result.prominent, result.flagged) == (True, True, False)


def test_clean_phrases_normalizes_and_deduplicates() -> None:
    assert clean_phrases(["#Ad", "#ad", "", "Paid   Partnership", "x" * 61]) == (
        "#ad",
        "paid partnership",
    )


@pytest.mark.parametrize(
    ("source", "disclosed", "label"),
    [
        ("creator", False, "Paid partnership"),
        ("creator", True, "Paid partnership"),
        ("try_and_tag", None, "Rewarded post"),
        ("merchant", True, "Ad"),
        ("merchant", None, ""),
    ],
)
def test_storefront_label_shows_every_material_connection(
    source: str, disclosed: bool | None, label: str
) -> None:
    assert disclosure_label(source, disclosed) == label
