"""`tastemaker demo` from scratch: seeds every demo part through the real endpoints."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_demo_seeds_every_part_and_prints_where_to_look(tmp_path: Path) -> None:
    # given a clean instance directory and an environment without services
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEMAKER_")}
    env["TASTEMAKER_INSTANCE_DIR"] = str(tmp_path)
    port = free_port()
    # when the demo seeds and exits
    result = subprocess.run(
        [sys.executable, "-m", "plugin.cli", "demo", "--port", str(port), "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    # then it succeeded and named the pages of every part
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    base = f"http://127.0.0.1:{port}"
    assert re.search(rf"merchant admin\s+{re.escape(base)}/admin ", out)
    assert "?key=" not in out  # no secret in a printed URL
    assert re.search(r"Authorization: Bearer tmk_", out)
    assert re.search(rf"creator page \(Maya\) {re.escape(base)}/creator/\S+", out)
    assert f"{base}/demo/shop/" in out
    assert "Shopify (simulated at" in out
    assert re.search(r"open Tastemaker inside tastemaker-demo\S+ admin: http://localhost:", out)
    assert "WooCommerce (a simulated store" in out
    assert "payouts awaiting approval in the admin: 2" in out
    assert (tmp_path / "demo.sqlite3").exists()
