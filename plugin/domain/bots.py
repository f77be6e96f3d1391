"""Who follows a referral link: a person, or a bot or link-preview fetcher that must not count.

Link previews are the bulk of non-human traffic on creator links: every share in a chat app or a
social network makes one to three fetches (facebookexternalhit, Twitterbot, Slackbot, WhatsApp,
TelegramBot, Discordbot, LinkedInBot, iMessage...). Search engines, uptime monitors, headless
browsers and HTTP libraries follow them too. They are redirected like anyone, but not counted.

The rule, from cheapest to broadest: no user agent at all is not a browser; a user agent that
names a known fetcher, a generic crawler word or an HTTP library is not a person; and a user
agent that does not even claim to be a browser ("Mozilla/…" or "Opera…", which every browser and
in-app webview sends) is not counted either. Known false positive avoided: Cubot phones ("CUBOT")
are people, so "bot" only counts when it is not part of that brand.
"""

from __future__ import annotations

import re
from functools import lru_cache

_KNOWN_FETCHERS = (
    "facebookexternalhit",
    "facebookcatalog",
    "meta-externalagent",
    "facebot",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "linkedinbot",
    "googlebot",
    "google-inspectiontool",
    "adsbot-google",
    "mediapartners-google",
    "apis-google",
    "feedfetcher-google",
    "googleother",
    "bingbot",
    "bingpreview",
    "duckduckbot",
    "applebot",
    "baiduspider",
    "redditbot",
    "skypeuripreview",
    "microsoftpreview",
    "embedly",
    "iframely",
    "vkshare",
    "cardyb",
    "pinterestbot",
    "yandexbot",
    "outbrain",
    "qwantify",
    "petalbot",
    "semrush",
    "ahrefs",
    "mj12bot",
    "uptimerobot",
    "pingdom",
    "statuscake",
    "lighthouse",
    "headlesschrome",
    "phantomjs",
    "puppeteer",
    "playwright",
    "selenium",
)
_HTTP_LIBRARIES = (
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "go-http-client",
    "java/",
    "okhttp",
    "apache-httpclient",
    "libwww-perl",
    "axios/",
    "node-fetch",
    "undici",
    "scrapy",
    "httpie",
    "postmanruntime",
    "insomnia",
    "guzzlehttp",
    "ruby",
    "dart:io",
    "werkzeug/",
)
_GENERIC = (r"(?<!cu)bot\b", r"crawl", r"spider", r"slurp", r"scraper", r"preview", r"fetcher")

_NOT_A_PERSON = re.compile(
    "|".join([re.escape(name) for name in (*_KNOWN_FETCHERS, *_HTTP_LIBRARIES)] + list(_GENERIC)),
    re.IGNORECASE,
)
_CLAIMS_A_BROWSER = re.compile(r"^\s*(?:mozilla/|opera)", re.IGNORECASE)

# Browsers announce speculative loads; those are not a person clicking.
_PREFETCH_PURPOSES = ("prefetch", "preview", "prerender")


@lru_cache(maxsize=4096)  # user agents repeat heavily; the cache keeps the hot path regex-free
def is_bot(user_agent: str | None) -> bool:
    """True when the user agent is not a person's browser (bots, previewers, HTTP libraries)."""
    if not user_agent or not user_agent.strip():
        return True
    if _NOT_A_PERSON.search(user_agent):
        return True
    return _CLAIMS_A_BROWSER.match(user_agent) is None


def is_prefetch(purpose: str | None) -> bool:
    """True for a `Sec-Purpose`/`Purpose`/`X-Purpose`/`X-Moz` header naming a speculative load."""
    if not purpose:
        return False
    lowered = purpose.lower()
    return any(word in lowered for word in _PREFETCH_PURPOSES)
