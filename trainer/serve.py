"""``python -m trainer serve --processes N``: several Streamlit processes behind one sticky port.

One Python process is the ceiling for a live class (DESIGN.md §5), so a class bigger than
~60–100 phones needs several processes sharing the database. This launcher starts N
``streamlit run`` processes on loopback ports and a small TCP proxy on the public port that
sends each client IP to the same process every time (sticky, as Streamlit sessions and
uploads require). For several machines, use the nginx example in ``deploy/nginx.conf``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def backend_for(client_ip: str, n_backends: int) -> int:
    """Stable choice of backend for a client address (same IP, same process).

    >>> backend_for("192.168.1.20", 3) == backend_for("192.168.1.20", 3)
    True
    >>> sorted({backend_for(f"10.0.0.{i}", 3) for i in range(60)})
    [0, 1, 2]
    """
    digest = hashlib.sha256(client_ip.encode()).digest()
    return int.from_bytes(digest[:4], "big") % n_backends


@dataclass
class Backend:
    port: int
    proc: subprocess.Popen[bytes]


def start_backends(n: int, first_port: int, extra_args: Sequence[str] = ()) -> list[Backend]:
    """Start N Streamlit processes on loopback and wait until each answers its health check."""
    backends = []
    for i in range(n):
        port = first_port + i
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(REPO / "streamlit_app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", *extra_args],
            cwd=REPO, env=dict(os.environ),
        )
        backends.append(Backend(port, proc))
    deadline = time.monotonic() + 90
    try:
        for b in backends:
            while True:
                if b.proc.poll() is not None:
                    raise RuntimeError(f"streamlit on port {b.port} exited with {b.proc.returncode} (port in use?)")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{b.port}/_stcore/health", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"streamlit on port {b.port} did not start") from None
                    time.sleep(0.3)
    except RuntimeError:
        stop_backends(backends)  # never leave half a cluster running
        raise
    return backends


def stop_backends(backends: Sequence[Backend], grace_s: float = 10.0) -> None:
    """Terminate every backend, then kill what has not exited after ``grace_s``."""
    for b in backends:
        if b.proc.poll() is None:
            b.proc.terminate()
    deadline = time.monotonic() + grace_s
    for b in backends:
        try:
            b.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            b.proc.kill()
            b.proc.wait(timeout=10)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except RuntimeError:
            pass


async def proxy(host: str, port: int, backend_ports: Sequence[int], ready: asyncio.Event | None = None) -> None:
    """Sticky TCP proxy: HTTP and websocket bytes pass through untouched."""

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        peer = client_w.get_extra_info("peername") or ("0.0.0.0", 0)
        target = backend_ports[backend_for(str(peer[0]), len(backend_ports))]
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))

    server = await asyncio.start_server(handle, host, port)
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


def serve(processes: int, host: str, port: int) -> int:
    if processes < 1:
        raise SystemExit("--processes must be at least 1")
    backends = start_backends(processes, port + 1)
    print(f"{processes} Streamlit process(es) on ports {port + 1}-{port + processes}; "
          f"open http://{host if host != '0.0.0.0' else '127.0.0.1'}:{port}", flush=True)

    def stop(*_: object) -> None:
        stop_backends(backends)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        asyncio.run(proxy(host, port, [b.port for b in backends]))
    except KeyboardInterrupt:
        pass
    finally:
        stop_backends(backends)
    return 0
