"""UGC media: uploads resized to a few widths and stored as WebP; remote media on allowed hosts.

A stored media item is a plain dict (UgcPost.media): {"type": "image"|"video", "width", "height",
"variants": [{"width", "height", "path" | "url"}], "video_url"?}. Uploaded variants carry a path
under Settings.media_dir (served at /media/<path>); remote ones an https URL. A video is shown by
its poster image, so its variants are the poster's.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from plugin.domain.ugc_rules import safe_media_url
from plugin.domain.validation import ValidationFailed

# Where creators' and shoppers' media live on the big networks, plus Shopify's own CDN.
DEFAULT_MEDIA_HOSTS: tuple[str, ...] = (
    "cdn.shopify.com",
    ".cdninstagram.com",
    ".fbcdn.net",
    ".tiktokcdn.com",
    ".tiktokcdn-us.com",
    "i.ytimg.com",
)
IMAGE_WIDTHS = (320, 640, 1080)
MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 40_000_000
UPLOAD_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
WEBP_QUALITY = 80


def media_hosts(extra: Iterable[str] = ()) -> tuple[str, ...]:
    return (*DEFAULT_MEDIA_HOSTS, *(host.strip().lower() for host in extra if host.strip()))


def store_upload(data: bytes, media_dir: Path, shop_id: int) -> dict[str, Any]:
    """Decode an uploaded image, resize it to IMAGE_WIDTHS (never upscaling), write WebP files.

    File names derive from the upload's hash, so the same upload twice writes the same files and a
    served URL never changes content (it can be cached forever).
    """
    if not data:
        raise ValidationFailed({"media": "is empty"})
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed({"media": f"must be at most {MAX_UPLOAD_BYTES // 1048576} MB"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
        with opened:
            if opened.format not in UPLOAD_FORMATS:
                raise ValidationFailed({"media": "must be a JPEG, PNG, WebP or GIF image"})
            # Checked on the header, before any pixel is decoded: no decompression bombs.
            if opened.width * opened.height > MAX_PIXELS:
                raise ValidationFailed({"media": "has too many pixels"})
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
    ):
        raise ValidationFailed({"media": "is not a readable image"}) from None
    image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    digest = hashlib.sha256(data).hexdigest()[:24]
    folder = Path("ugc") / str(shop_id)
    variants = []
    for width in _widths(image.width):
        height = max(1, round(image.height * width / image.width))
        resized = (
            image
            if width == image.width
            else image.resize((width, height), Image.Resampling.LANCZOS)
        )
        relative = folder / f"{digest}-{width}.webp"
        _write_webp(resized, media_dir / relative)
        variants.append({"width": width, "height": height, "path": relative.as_posix()})
    return {
        "type": "image",
        "width": image.width,
        "height": image.height,
        "variants": variants,
    }


def remote_media(
    url: str,
    *,
    width: int,
    height: int,
    hosts: Iterable[str],
    kind: str = "image",
    poster_url: str | None = None,
) -> dict[str, Any]:
    """A media item for an https URL on an allowed host; a video needs a poster image too."""
    allowed = tuple(hosts)
    safe = safe_media_url(url, allowed)
    if safe is None:
        raise ValidationFailed({"media_url": "must be an https URL on an allowed media host"})
    if kind == "video":
        if not poster_url:
            raise ValidationFailed({"poster_url": "is required for a video"})
        poster = safe_media_url(poster_url, allowed)
        if poster is None:
            raise ValidationFailed({"poster_url": "must be an https URL on an allowed media host"})
        variants = [{"width": width, "height": height, "url": poster}]
        return {
            "type": "video",
            "width": width,
            "height": height,
            "variants": variants,
            "video_url": safe,
        }
    return {
        "type": "image",
        "width": width,
        "height": height,
        "variants": [{"width": width, "height": height, "url": safe}],
    }


def variant_url(variant: Mapping[str, Any], public_url: str, hosts: Iterable[str]) -> str | None:
    """Where a browser fetches a stored variant; remote URLs are re-checked against the hosts."""
    path = variant.get("path")
    if isinstance(path, str) and path:
        return f"{public_url.rstrip('/')}/media/{path}"
    url = variant.get("url")
    return safe_media_url(url, hosts) if isinstance(url, str) else None


def _widths(original: int) -> list[int]:
    widths = [width for width in IMAGE_WIDTHS if width < original]
    widths.append(min(original, IMAGE_WIDTHS[-1]))
    return sorted(set(widths))


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    )


def _write_webp(image: Image.Image, target: Path) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename: a reader never sees half a file, two writers never interleave.
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
