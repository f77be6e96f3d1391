"""The redirect writes each click's spool line by hand (no json module): it must stay JSON."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from plugin.services.clicks import ClickRecorder, VisitorHasher
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
    visitor = recorder.visitor("10.0.0.1", 'Mo"zilla')
    assert recorder.record(LINK, "ab" * 16, visitor=visitor, referrer=referrer)
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
    assert before - 1e-6 <= record["occurred_at"] <= after  # written to the microsecond


def test_a_click_is_spooled_at_the_microsecond_it_was_given(tmp_path: Path) -> None:
    spool = Spool(tmp_path, "clicks", fsync=False)
    recorder = ClickRecorder(spool, "secret")
    now_ns = 1_733_434_343_123_456_789
    assert recorder.record(LINK, "cd" * 16, visitor="ef" * 32, referrer=None, now_ns=now_ns)
    spool.close()
    (segment,) = (tmp_path / "clicks").glob("*.ready")
    record = json.loads(segment.read_bytes())
    assert record["occurred_at"] == 1_733_434_343.123456
    assert record["visitor_hash"] == "ef" * 32


@pytest.mark.parametrize("key", [b"", b"k" * 32, b"k" * 64, b"k" * 65, bytes(range(200))])
@pytest.mark.parametrize(
    ("ip", "user_agent"),
    [("10.0.0.1", "Mozilla/5.0"), (None, None), ("::1", "Mözilla ✓"), ("1.2.3.4", "x" * 500)],
)
def test_the_visitor_hash_is_the_hmac_sha256_of_ip_and_user_agent(
    key: bytes, ip: str | None, user_agent: str | None
) -> None:
    expected = hmac.new(key, f"{ip or ''}\n{user_agent or ''}".encode(), hashlib.sha256)
    assert VisitorHasher(key)(ip, user_agent) == expected.hexdigest()
