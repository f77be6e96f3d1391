"""The redirect writes each click's spool line by hand (no json module): it must stay JSON."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from plugin.services.clicks import ClickRecorder
from plugin.services.links import ResolvedLink
from plugin.spool import Spool

LINK = ResolvedLink(
    slug="abc",
    shop_id=7,
    link_id=2**40,
    creator_id=9,
    creator_handle="maya",
    active=True,
    location_prefix="https://shop.test/?tm_click=",
    location_suffix="",
    store_url="https://shop.test/",
)


@pytest.mark.parametrize(
    ("referrer", "host"),
    [
        (None, None),
        ("", None),
        ("https://l.instagram.com/?u=x", "l.instagram.com"),
        ("https://Example.COM:8443/a", "example.com"),
        ('http://a"b\\c/', 'a"b\\c'),  # quotes and backslashes need escaping
        ("https://bücher.example/", "bücher.example"),
        ("http://[::1]:80/", "::1"),
        ("http://[not a host/", None),  # urlsplit refuses it
    ],
)
def test_a_spooled_click_line_is_json_with_every_field(
    tmp_path: Path, referrer: str | None, host: str | None
) -> None:
    spool = Spool(tmp_path, "clicks", fsync=False)
    recorder = ClickRecorder(spool, "secret")
    before = time.time()
    assert recorder.record(LINK, "ab" * 16, ip="10.0.0.1", user_agent='Mo"zilla', referrer=referrer)
    after = time.time()
    spool.close()
    (segment,) = (tmp_path / "clicks").glob("*.ready")
    (line,) = segment.read_bytes().splitlines()
    record = json.loads(line)
    key = hashlib.sha256(b"tastemaker-visitor-hash:secret").digest()
    assert record == {
        "click_uid": "ab" * 16,
        "shop_id": 7,
        "link_id": 2**40,
        "creator_id": 9,
        "occurred_at": record["occurred_at"],
        "visitor_hash": hmac.new(key, b'10.0.0.1\nMo"zilla', hashlib.sha256).hexdigest(),
        "referrer_host": host,
    }
    assert isinstance(record["occurred_at"], float)
    assert before <= record["occurred_at"] <= after
