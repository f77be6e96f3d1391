"""Uploads resized to WebP widths with Pillow; remote media only on allowed https hosts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from plugin.domain.validation import ValidationFailed
from plugin.services.media import media_hosts, remote_media, store_upload, variant_url
from tests.ugc.factories import png_bytes


def test_an_upload_becomes_webp_variants_never_upscaled(tmp_path: Path) -> None:
    # when
    media = store_upload(png_bytes(800, 600), tmp_path, shop_id=7)
    # then
    assert (media["type"], media["width"], media["height"]) == ("image", 800, 600)
    assert [(v["width"], v["height"]) for v in media["variants"]] == [
        (320, 240),
        (640, 480),
        (800, 600),
    ]
    for variant in media["variants"]:
        assert variant["path"].startswith("ugc/7/")
        with Image.open(tmp_path / variant["path"]) as image:
            assert (image.format, image.size) == ("WEBP", (variant["width"], variant["height"]))


def test_a_small_upload_keeps_its_size(tmp_path: Path) -> None:
    media = store_upload(png_bytes(200, 100), tmp_path, shop_id=1)
    assert [(v["width"], v["height"]) for v in media["variants"]] == [(200, 100)]


def test_the_same_upload_twice_writes_the_same_files(tmp_path: Path) -> None:
    data = png_bytes(400, 400)
    assert store_upload(data, tmp_path, 1) == store_upload(data, tmp_path, 1)
    assert len(list((tmp_path / "ugc" / "1").iterdir())) == 2


def test_transparency_survives(tmp_path: Path) -> None:
    media = store_upload(png_bytes(64, 64, "RGBA", (0, 0, 0, 0)), tmp_path, 1)
    with Image.open(tmp_path / media["variants"][0]["path"]) as image:
        assert image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] == 0


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # given a 300x100 JPEG that says "rotate 90°" (EXIF orientation 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (300, 100), (10, 20, 30)).save(out, "JPEG", exif=exif)
    # when
    media = store_upload(out.getvalue(), tmp_path, 1)
    # then
    assert (media["width"], media["height"]) == (100, 300)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"GIF89a-not-really", "is not a readable image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "is not a readable image"),
    ],
)
def test_unreadable_uploads_are_refused(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        store_upload(data, tmp_path, 1)
    assert failed.value.fields == {"media": message}


def test_an_image_with_too_many_pixels_is_refused_before_decoding(tmp_path: Path) -> None:
    huge = png_bytes(8000, 6000, mode="1", color=0)
    with pytest.raises(ValidationFailed) as failed:
        store_upload(huge, tmp_path, 1)
    assert failed.value.fields == {"media": "has too many pixels"}
    assert not (tmp_path / "ugc").exists()


def test_a_non_image_format_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "BMP")
    with pytest.raises(ValidationFailed) as failed:
        store_upload(out.getvalue(), tmp_path, 1)
    assert failed.value.fields == {"media": "must be a JPEG, PNG, WebP or GIF image"}


def test_remote_media_must_be_https_on_an_allowed_host() -> None:
    hosts = media_hosts([".brand-cdn.example"])
    media = remote_media("https://img.brand-cdn.example/a.jpg", width=10, height=20, hosts=hosts)
    assert media["variants"] == [
        {"width": 10, "height": 20, "url": "https://img.brand-cdn.example/a.jpg"}
    ]
    with pytest.raises(ValidationFailed):
        remote_media("https://brand-cdn.example.evil/a.jpg", width=1, height=1, hosts=hosts)


def test_a_video_is_shown_by_its_poster() -> None:
    media = remote_media(
        "https://v16.tiktokcdn.com/v.mp4",
        width=720,
        height=1280,
        hosts=media_hosts(),
        kind="video",
        poster_url="https://p16.tiktokcdn.com/poster.jpg",
    )
    assert media["type"] == "video"
    assert media["video_url"] == "https://v16.tiktokcdn.com/v.mp4"
    assert media["variants"][0]["url"] == "https://p16.tiktokcdn.com/poster.jpg"


def test_variant_urls_recheck_remote_hosts_and_prefix_local_paths() -> None:
    assert variant_url({"path": "ugc/1/a-320.webp"}, "https://tm.example/", ()) == (
        "https://tm.example/media/ugc/1/a-320.webp"
    )
    assert variant_url({"url": "https://gone.example/a.jpg"}, "https://tm.example", ()) is None
