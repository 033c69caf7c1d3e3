"""The multi-process launcher: two Streamlit processes behind one sticky port."""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.browser import REPO, free_port
from trainer.tools.serve import backend_for, proxy


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
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trainer",
            "serve",
            "--processes",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
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


# -- issue 11 item 17: a dead backend is restarted, and its clients are served meanwhile ----------


def _clients_by_backend(n: int = 20) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {0: [], 1: []}
    for i in range(2, 2 + n):
        ip = f"127.0.0.{i}"
        out[backend_for(ip, 2)].append(ip)
    return out


def _wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _served(port: int, ip: str) -> bool:
    try:
        return _get(port, "/_stcore/health", ip) == 200
    except OSError:
        return False


def test_a_killed_backend_is_routed_around_restarted_and_logged(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, TRAINER_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trainer",
            "serve",
            "--processes",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            lines.append(raw.decode(errors="replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    clients = _clients_by_backend()
    assert clients[0] and clients[1]
    try:
        _wait_for(lambda: any("Streamlit process(es)" in ln for ln in lines), 120, "the cluster to start")
        started = next(ln for ln in lines if "Streamlit process(es)" in ln)
        pid = int(re.search(rf"port {port + 2} pid (\d+)", started).group(1))  # type: ignore[union-attr]
        assert all(_served(port, ip) for ips in clients.values() for ip in ips)

        os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: not _served(port + 2, "127.0.0.1"), 10, "the killed backend to stop answering")
        # Every client address is answered while it is down: the dead backend's clients by the other.
        for ip in clients[1] + clients[0]:
            assert _served(port, ip), ip
        assert not _served(port + 2, "127.0.0.1")  # …and that was routing around, not the restart
        _wait_for(
            lambda: any("exited with code" in ln and f"port {port + 2}" in ln for ln in lines),
            10,
            "the exit to be logged",
        )
        _wait_for(
            lambda: any("answers again" in ln and f"port {port + 2}" in ln for ln in lines),
            120,
            "the backend to be restarted",
        )
        assert any(f"backend 2 restarted on port {port + 2}" in ln for ln in lines)
        assert _served(port + 2, "127.0.0.1")  # the restarted process itself
        assert all(_served(port, ip) for ips in clients.values() for ip in ips)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        reader.join(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


# -- the proxy tells the backend who the client is (for the per-client host-key throttle) ---------


def test_the_proxy_replaces_a_forged_client_address_and_keeps_websocket_upgrades() -> None:
    heads: list[bytes] = []

    async def scenario() -> None:
        async def backend(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            head = await r.readuntil(b"\r\n\r\n")
            heads.append(head)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await w.drain()
            w.close()

        up = await asyncio.start_server(backend, "127.0.0.1", 0)
        up_port = up.sockets[0].getsockname()[1]
        front_port = free_port()
        ready = asyncio.Event()
        task = asyncio.create_task(proxy("127.0.0.1", front_port, [up_port], ready))
        await ready.wait()
        for head in (
            b"GET /x HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: keep-alive\r\n\r\n",
            b"GET /_stcore/stream HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Forwarded: for=6.6.6.6\r\n\r\n",
        ):
            r, w = await asyncio.open_connection("127.0.0.1", front_port, local_addr=("127.0.0.7", 0))
            w.write(head)
            await w.drain()
            assert (await r.read()).endswith(b"ok")
            w.close()
        task.cancel()
        up.close()

    asyncio.run(scenario())
    plain, upgrade = heads
    assert plain.count(b"X-Forwarded-For") == 1 and b"X-Forwarded-For: 127.0.0.7\r\n" in plain
    assert b"6.6.6.6" not in plain and b"Connection: close\r\n" in plain and b"keep-alive" not in plain
    assert b"Connection: Upgrade\r\n" in upgrade and b"Forwarded:" not in upgrade
    assert b"X-Forwarded-For: 127.0.0.7\r\n" in upgrade
