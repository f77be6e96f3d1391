"""Disclosure check for paid creator posts: does the caption say it is an ad?

Hashtags match as whole tags (`#ad` is not `#adventure`); phrases match on word boundaries,
case-insensitively, after Unicode NFKC folding and whitespace collapsing, so "Paid  Partnership"
and full-width characters still count. A disclosure buried after the first lines (where networks
truncate captions) is reported as not prominent: it counts, but the merchant is warned.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_PHRASES: tuple[str, ...] = ("#ad", "#sponsored", "paid partnership")
# Instagram shows about this many characters before "more"; later text is easy to miss.
PROMINENT_CHARS = 125
MAX_PHRASES = 50
MAX_PHRASE_LENGTH = 60


@dataclass(frozen=True)
class DisclosureResult:
    disclosed: bool
    matches: tuple[str, ...]
    # True when the first match starts within the first PROMINENT_CHARS characters.
    prominent: bool

    @property
    def flagged(self) -> bool:
        """The merchant should look at it: no disclosure, or one that is easy to miss."""
        return not self.disclosed or not self.prominent


def normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", folded).strip()


def clean_phrases(phrases: Iterable[str]) -> tuple[str, ...]:
    """Normalized, de-duplicated phrases; empty and overlong ones are dropped."""
    seen: dict[str, None] = {}
    for phrase in phrases:
        cleaned = normalize(phrase)
        if cleaned and len(cleaned) <= MAX_PHRASE_LENGTH:
            seen.setdefault(cleaned, None)
    return tuple(seen)[:MAX_PHRASES]


def _pattern(phrase: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(word) for word in phrase.split(" "))
    # Word characters and '#' must not touch either end: '#ad' is not in '#adventure' or '##ad'.
    return re.compile(rf"(?<![\w#]){body}(?!\w)")


def check_disclosure(caption: str, extra_phrases: Iterable[str] = ()) -> DisclosureResult:
    text = normalize(caption)
    first: int | None = None
    matches: list[str] = []
    for phrase in clean_phrases((*DEFAULT_PHRASES, *extra_phrases)):
        found = _pattern(phrase).search(text)
        if found is None:
            continue
        matches.append(phrase)
        first = found.start() if first is None else min(first, found.start())
    return DisclosureResult(
        disclosed=bool(matches),
        matches=tuple(matches),
        prominent=first is not None and first < PROMINENT_CHARS,
    )


def disclosure_label(source: str, disclosed: bool | None) -> str:
    """The label a storefront slide shows next to the author.

    Creator posts are paid; Try & Tag posts earned a reward: both are material connections that
    a shopper must see, whatever the caption says. A merchant's own import carries none.
    """
    if source == "creator":
        return "Paid partnership"
    if source == "try_and_tag":
        return "Rewarded post"
    return "Ad" if disclosed else ""
