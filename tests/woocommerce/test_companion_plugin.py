"""The WordPress companion plugin: its PHP lints and behaves under WordPress stand-ins."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from connectors.woocommerce.normalize import CLICK_META_KEY

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "widgets" / "woocommerce" / "tastemaker"
HARNESS = Path(__file__).resolve().parent / "php" / "harness.php"
PHP_FILES = [*sorted(PLUGIN.rglob("*.php")), HARNESS]
SETTINGS = {"url": "https://tastemaker.example/", "public_key": "pk_shop12345"}
ELEMENT = (
    '<tastemaker-ugc shop="pk_shop12345" product="{}" platform="woocommerce"'
    ' style="display:block;height:532px"></tastemaker-ugc>'
)
LOADER = {
    "tastemaker-ugc-loader": {
        "src": "https://tastemaker.example/widgets/ugc-loader.js",
        "args": {"strategy": "async", "in_footer": True},
    }
}


def php() -> str:
    path = shutil.which("php")
    if path is None:
        pytest.fail("php is missing: install Debian's php-cli (apt-get install -y php-cli)")
    return path


def run_plugin(scenario: str, **given: Any) -> dict[str, Any]:
    done = subprocess.run(
        [php(), str(HARNESS), scenario, json.dumps(given)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_plugin_has_its_files() -> None:
    names = {path.relative_to(PLUGIN).as_posix() for path in PLUGIN.rglob("*") if path.is_file()}
    assert {
        "tastemaker.php",
        "readme.txt",
        "blocks/ugc/block.json",
        "blocks/ugc/render.php",
    } <= names


@pytest.mark.parametrize("path", PHP_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_php_lint(path: Path) -> None:
    done = subprocess.run(
        [php(), "-l", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_block_json_names_the_block_and_its_server_render() -> None:
    block = json.loads((PLUGIN / "blocks" / "ugc" / "block.json").read_text())
    assert (block["name"], block["render"], block["editorScript"]) == (
        "tastemaker/ugc",
        "file:./render.php",
        "file:./index.js",
    )


def test_the_shortcode_prints_the_element_and_loads_the_script_only_then() -> None:
    result = run_plugin("shortcode", settings=SETTINGS, atts={"product": "42"})
    assert result["html"] == ELEMENT.format(42)
    assert (result["enqueued_before"], result["enqueued"]) == ([], ["tastemaker-ugc-loader"])
    assert result["registered"] == LOADER


def test_the_shortcode_defaults_to_the_product_being_shown() -> None:
    result = run_plugin("shortcode", settings=SETTINGS, is_product=True, post_id=93)
    assert result["html"] == ELEMENT.format(93)


def test_the_block_renders_the_element_in_its_wrapper() -> None:
    result = run_plugin("block", settings=SETTINGS, attributes={"product": 7})
    assert result["html"] == f'<div class="wp-block-tastemaker-ugc">{ELEMENT.format(7)}</div>'
    assert result["blocks"] == ["tastemaker/ugc"]
    assert result["enqueued"] == ["tastemaker-ugc-loader"]


def test_nothing_renders_or_loads_until_configured() -> None:
    result = run_plugin("shortcode", settings={}, atts={"product": "42"})
    assert (result["html"], result["registered"], result["enqueued"]) == ("", [], [])


def test_values_are_escaped_in_the_element() -> None:
    result = run_plugin(
        "shortcode", settings={**SETTINGS, "public_key": 'pk_"><script>'}, atts={"product": "1"}
    )
    assert (
        result["html"] == '<tastemaker-ugc shop="pk_&quot;&gt;&lt;script&gt;" product="1"'
        ' platform="woocommerce" style="display:block;height:532px"></tastemaker-ugc>'
    )


def test_the_click_from_the_landing_url_reaches_both_checkouts() -> None:
    result = run_plugin("checkout", get={"tm_click": "c_abc123"})
    assert result["cookie"] == "c_abc123"
    assert result["classic_meta"] == result["block_meta"] == {CLICK_META_KEY: "c_abc123"}


def test_a_click_cookie_from_an_earlier_visit_still_counts() -> None:
    result = run_plugin("checkout", cookies={"tm_click": "c_earlier"})
    assert result["classic_meta"] == {CLICK_META_KEY: "c_earlier"}


@pytest.mark.parametrize("value", ["<script>", "x" * 33, ""])
def test_a_click_id_that_is_not_ours_is_neither_kept_nor_written(value: str) -> None:
    result = run_plugin("checkout", get={"tm_click": value})
    assert (result["cookie"], result["classic_meta"], result["block_meta"]) == (None, [], [])


def test_the_creators_coupon_is_applied_once_the_cart_has_a_product() -> None:
    result = run_plugin("coupon", get={"coupon": "MAYA10"})
    assert (result["applied_on_landing"], result["applied_after_add"]) == ([], ["maya10"])
    assert (result["pending"], result["session_cookie"]) == (None, True)
