"""Which networks a Try & Tag post may live on, where their public oEmbed endpoints are, and what
a fetched answer means. Pure rules: the fetching itself is plugin.services.safe_fetch.

A post is rewardable only when its check found it live (publicly reachable) and its caption
carries a disclosure; anything else goes back to the shopper with the reason, never silently
rewarded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

# network -> its public oEmbed endpoint (takes ?url=<post>&format=json). Instagram's oEmbed needs
# an app token, so its public page's OpenGraph metadata is read instead (endpoint None).
OEMBED_ENDPOINTS: dict[str, str | None] = {
    "youtube": "https://www.youtube.com/oembed",
    "tiktok": "https://www.tiktok.com/oembed",
    "pinterest": "https://www.pinterest.com/oembed.json",
    "instagram": None,
}
DEFAULT_NETWORKS: tuple[str, ...] = ("instagram", "tiktok", "youtube", "pinterest")
CHECK_STATUSES = ("unchecked", "live", "gone", "unreachable")
# Answers meaning "this post is not (or no longer) public": deleted, private, embedding refused.
GONE_HTTP_STATUSES = frozenset({400, 401, 403, 404, 410})
MAX_CAPTION = 5000


@dataclass(frozen=True)
class PostMetadata:
    caption: str
    author: str


@dataclass(frozen=True)
class CheckOutcome:
    status: str  # one of CHECK_STATUSES
    metadata: PostMetadata | None = None
    reason: str = ""


def allowed_networks(configured: Iterable[str] | None) -> tuple[str, ...]:
    """The shop's allowed networks: its own list when it names known ones, else the default."""
    if configured is None:
        return DEFAULT_NETWORKS
    chosen = tuple(dict.fromkeys(n for n in configured if n in OEMBED_ENDPOINTS))
    return chosen or DEFAULT_NETWORKS


def network_names(networks: Iterable[str]) -> str:
    labels = {"youtube": "YouTube", "tiktok": "TikTok"}
    names = [labels.get(n, n.capitalize()) for n in networks]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def metadata_url(network: str, post_url: str, overrides: Mapping[str, str]) -> str:
    """Where to read the post's public metadata (a test may point a network at a local server)."""
    endpoint = overrides.get(network) or OEMBED_ENDPOINTS.get(network)
    if endpoint is None:
        return post_url
    return f"{endpoint}?{urlencode({'url': post_url, 'format': 'json'})}"


def interpret(status: int, content_type: str, body: bytes) -> CheckOutcome:
    """What an HTTP answer about a post means (2xx parsed, 'gone' statuses, anything else)."""
    if status in GONE_HTTP_STATUSES:
        return CheckOutcome("gone", reason=f"the post is not public any more (HTTP {status})")
    if not 200 <= status < 300:
        return CheckOutcome("unreachable", reason=f"the network answered HTTP {status}")
    if "json" in content_type:
        return _from_oembed(body)
    return _from_html(body)


def _from_oembed(body: bytes) -> CheckOutcome:
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return CheckOutcome("unreachable", reason="the network's answer was not valid JSON")
    if not isinstance(data, dict):
        return CheckOutcome("unreachable", reason="the network's answer was not an oEmbed object")
    caption = str(data.get("title") or "")[:MAX_CAPTION]
    author = str(data.get("author_name") or "")[:120]
    return CheckOutcome("live", PostMetadata(caption, author))


def _from_html(body: bytes) -> CheckOutcome:
    from html.parser import HTMLParser

    found: dict[str, str] = {}

    class Meta(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag != "meta":
                return
            values = dict(attrs)
            key = values.get("property") or values.get("name") or ""
            if key in ("og:description", "og:title", "description") and values.get("content"):
                found.setdefault(key, values["content"] or "")

    Meta().feed(body.decode("utf-8", errors="replace"))
    caption = found.get("og:description") or found.get("description") or found.get("og:title")
    if caption is None:
        return CheckOutcome("gone", reason="the page shows no public post")
    return CheckOutcome("live", PostMetadata(caption[:MAX_CAPTION], found.get("og:title", "")))


def needs_change_reason(check_status: str, disclosed: bool | None, phrases: Iterable[str]) -> str:
    """Why a checked post cannot be rewarded yet, in words for the shopper; '' when it can."""
    if check_status == "gone":
        return "We could not find your post: it was deleted or is not public. Make it public."
    if check_status != "live":
        return ""
    if not disclosed:
        shown = ", ".join(sorted(set(phrases)))
        return (
            "Your caption does not say that the post earns a reward. Add a clear disclosure "
            f"such as {shown} near the start of the caption."
        )
    return ""
