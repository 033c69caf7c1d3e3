"""The multi-process launcher: two Streamlit processes behind one sticky port."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.browser import REPO, free_port
from trainer.serve import backend_for


def _get(port: int, path: str, source_ip: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source_ip, 0))
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_serve_starts_processes_and_routes_each_client_to_one_of_them(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, TRAINER_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "trainer", "serve", "--processes", "2", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline:
            try:
                status = _get(port, "/_stcore/health", "127.0.0.1")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200
        # Clients from two loopback addresses that hash to different processes both get answers,
        # and each backend process answers on its own port too.
        ips = [f"127.0.0.{i}" for i in range(2, 40)]
        a = next(ip for ip in ips if backend_for(ip, 2) == 0)
        b = next(ip for ip in ips if backend_for(ip, 2) == 1)
        assert _get(port, "/_stcore/health", a) == 200
        assert _get(port, "/_stcore/health", b) == 200
        assert _get(port + 1, "/_stcore/health", "127.0.0.1") == 200
        assert _get(port + 2, "/_stcore/health", "127.0.0.1") == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
