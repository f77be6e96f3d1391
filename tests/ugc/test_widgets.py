"""The widget files: size budget, safe source, Shopify copies, and how they are served."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
import rcssmin
from flask.testing import FlaskClient

from plugin.manifest import ROOT, load_manifest
from plugin.widget_bundle import current_bundle

WIDGETS = ROOT / "widgets"
SOURCES = sorted((WIDGETS / "src").iterdir())


def load(name: str) -> ModuleType:
    """widgets/ is not a package (its scripts run standalone): import a script by path."""
    qualified = f"widgets_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, WIDGETS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_the_widget_fits_its_gzipped_size_budget(capsys: pytest.CaptureFixture[str]) -> None:
    check_size = load("check_size")
    assert check_size.main([]) == 0
    out = capsys.readouterr().out
    assert "loader JS" in out
    assert "OVER BUDGET" not in out
    sizes = {budget.name: size for budget, size in check_size.measure()}
    assert sizes["loader JS"] <= 5 * 1024
    assert sizes["widget JS (loader + carousel)"] <= 10 * 1024
    assert sizes["widget CSS"] <= 2 * 1024


def test_the_budget_check_fails_above_budget(tmp_path: Path) -> None:
    check_size = load("check_size")
    for path in SOURCES:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    # random-looking bytes do not compress: 3 KB of them blow the CSS budget
    noise = "".join(f"{n * 7919 % 100003:x}" for n in range(1200))
    (tmp_path / "ugc-carousel.css").write_text(noise)
    assert check_size.main([str(tmp_path)]) == 1


def test_the_shopify_extension_build_copies_every_source(tmp_path: Path) -> None:
    build = load("build")
    assert build.stale_copies(tmp_path) == list(build.FILES)
    build.copy_assets(tmp_path)
    assert build.stale_copies(tmp_path) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(build.FILES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_widget_source_never_parses_html_or_evaluates_code(path: Path) -> None:
    text = path.read_text()
    forbidden = [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "setAttribute('style'",
        "setAttribute('on",
        ".onclick",
        "javascript:",
    ]
    assert [word for word in forbidden if word in text] == []


def test_the_theme_block_has_title_and_max_item_settings() -> None:
    block = (WIDGETS / "shopify/extensions/tastemaker-theme/blocks/ugc_carousel.liquid").read_text()
    schema = json.loads(re.search(r"{% schema %}(.*){% endschema %}", block, re.S).group(1))  # type: ignore[union-attr]
    settings = {setting["id"]: setting for setting in schema["settings"]}
    assert settings["title"]["type"] == "text"
    assert (settings["max_items"]["type"], settings["max_items"]["max"]) == ("range", 24)
    assert "{{ 'ugc-loader.js' | asset_url }}" in block
    assert "<tastemaker-ugc" in block
    assert "height:532px" in block


def test_the_reserved_height_is_the_same_everywhere() -> None:
    loader = (WIDGETS / "src/ugc-loader.js").read_text()
    css = (WIDGETS / "src/ugc-carousel.css").read_text()
    demo_css = (ROOT / "plugin/static/ugc/demo-product.css").read_text()
    assert "var HEIGHT = '532px';" in loader
    assert "height: 532px;" in css
    assert "tastemaker-ugc { display: block; height: 532px;" in demo_css


def test_the_manifest_names_the_served_widget_files(client: FlaskClient) -> None:
    widget = load_manifest().data["widgets"]["ugc_carousel"]
    assert widget["element"] == "tastemaker-ugc"
    for url in (widget["loader"], widget["script"]):
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert response.headers["Cache-Control"] == (
            "public, max-age=3600, stale-while-revalidate=86400"
        )


def test_hashed_widget_files_are_immutable_and_revalidate(client: FlaskClient) -> None:
    bundle = current_bundle()
    response = client.get(f"/widgets/{bundle.styles}")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.mimetype == "text/css"
    assert response.data == rcssmin.cssmin((WIDGETS / "src/ugc-carousel.css").read_text()).encode()
    again = client.get(
        f"/widgets/{bundle.styles}", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_widget_files_are_minified_and_served_gzipped(client: FlaskClient) -> None:
    bundle = current_bundle()
    for name in (bundle.loader, bundle.carousel, bundle.styles):
        plain = client.get(f"/widgets/{name}")
        zipped = client.get(f"/widgets/{name}", headers={"Accept-Encoding": "gzip, br"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert zipped.headers["Vary"] == "Accept-Encoding"
        assert gzip.decompress(zipped.data) == plain.data
        assert b"/*" not in plain.data  # comments stripped
    source = (WIDGETS / "src/ugc-carousel.js").stat().st_size
    assert len(client.get(f"/widgets/{bundle.carousel}").data) < source


def test_the_loader_names_the_hashed_carousel_which_carries_its_css(client: FlaskClient) -> None:
    bundle = current_bundle()
    loader = client.get("/widgets/ugc-loader.js").data.decode()
    carousel = client.get(f"/widgets/{bundle.carousel}").data.decode()
    assert re.fullmatch(r"ugc-carousel\.[0-9a-f]{10}\.js", bundle.carousel)
    assert f'"{bundle.carousel}"' in loader
    assert f'"{bundle.styles}"' in loader
    assert "__TASTEMAKER_CSS__" not in carousel
    assert json.dumps(rcssmin.cssmin((WIDGETS / "src/ugc-carousel.css").read_text())) in carousel


def test_a_hash_from_an_older_deploy_gets_the_current_file_briefly_cached(
    client: FlaskClient,
) -> None:
    bundle = current_bundle()
    response = client.get("/widgets/ugc-carousel.0123456789.js")
    assert response.status_code == 200
    assert response.data == bundle.files[bundle.carousel].body
    assert response.headers["Cache-Control"] == "public, max-age=3600, stale-while-revalidate=86400"
    assert client.get("/widgets/ugc-carousel.0123456789.css").data == (
        bundle.files[bundle.styles].body
    )


@pytest.mark.parametrize(
    "path",
    [
        "/widgets/check_size.py",
        "/widgets/..%2Fmanifest.yml",
        "/media/x.png",
        "/media/../../etc/passwd.webp",
    ],
)
def test_only_widget_files_and_webp_media_are_served(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404
