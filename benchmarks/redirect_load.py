"""benchmarks.redirect's load generators and its ceiling: wrk (closed loop), the open-loop
client (benchmarks/openloop.c) and nginx answering every /r/ request with the same 302."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks._util import Server, free_port
from benchmarks.redirect_baselines import LOCATION

HERE = Path(__file__).resolve().parent
USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
NGINX_CONF = """
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096{reuseport};
        location /r/ {{
            add_header Cache-Control no-store always;
            add_header Referrer-Policy strict-origin-when-cross-origin always;
            return 302 "{location}";
        }}
    }}
}}
"""


def build_client(directory: Path) -> Path:
    binary = directory / "openloop"
    subprocess.run(["gcc", "-O2", "-o", str(binary), str(HERE / "openloop.c"), "-lm"], check=True)
    return binary


def wrk(
    port: int, path: str, seconds: float, connections: int, *, close: bool
) -> tuple[float, int]:
    """Requests per second and requests completed, closed loop."""
    headers = ["-H", f"User-Agent: {USER_AGENT}"]
    if close:
        headers += ["-H", "Connection: close"]
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            *headers,
            f"http://127.0.0.1:{port}{path}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    done = re.search(r"(\d+) requests in", output)
    if rate is None or done is None or "Non-2xx" in output:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(rate[1]), int(done[1])


def open_loop(client: Path, port: int, path: str, rate: int, seconds: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("wb", suffix=".http") as request:
        request.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: text/html\r\nConnection: close\r\n\r\n".encode()
        )
        request.flush()
        output = subprocess.run(
            [str(client), str(port), str(rate), str(seconds), request.name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise SystemExit("nginx is missing: apt-get install -y nginx (scripts/bench does)")
    return found


@contextmanager
def nginx(workers: int, directory: Path, *, reuseport: bool) -> Iterator[Server]:
    """nginx answering every /r/ request with the same 302, as fast as this machine allows;
    `reuseport`: a listening socket per worker, as `tastemaker serve` has when the kernel moves
    a closing socket's queue (plugin.serve), so both are measured with the same listeners."""
    root = directory / "nginx"
    root.mkdir()
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            workers=workers,
            root=root,
            port=port,
            location=LOCATION,
            reuseport=" reuseport" if reuseport else "",
        )
    )
    process = subprocess.Popen(
        [nginx_binary(), "-p", str(root), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not (root / "nginx.pid").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {(root / 'error.log').read_text()}")
            time.sleep(0.05)
        yield Server(port, process)  # type: ignore[arg-type]
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful stop of the master we started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
