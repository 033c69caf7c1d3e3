"""``python -m trainer serve --processes N``: several Streamlit processes behind one sticky port.

One Python process is the ceiling for a live class (DESIGN.md §5), so a class bigger than
~60–100 phones needs several processes sharing the database. This launcher starts N
``streamlit run`` processes on loopback ports and a small TCP proxy on the public port that
sends each client IP to the same process every time (sticky, as Streamlit sessions and
uploads require). For several machines, use the nginx example in ``deploy/nginx.conf``.

It keeps the class up when a process dies: a supervisor notices the exit, logs it, and
starts the process again on the same port; until it answers its health check, its clients are
sent to the next live process (:func:`choose_backend`), so no client address is refused for
good. Phones reconnect by themselves and the player token in their URL makes them the same
player again (all class state is in the database).

The proxy also tells each process who the client is: it replaces any ``X-Forwarded-For`` the
client sent with the address it really connected from (Streamlit's server trusts that header
from 127.0.0.1 only, which is where the proxy connects from), and lets each connection carry
one request (or one websocket), so a later request on the same connection cannot bring its
own header. The host-key throttle counts per client address with it (:mod:`trainer.rules.throttle`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from trainer.settings import REPO_ROOT

REPO = REPO_ROOT
_LOG = logging.getLogger("trainer.serve")
#: Longest request head the proxy reads before deciding where to send it.
MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_S = 30.0
#: Waits between restarts of a backend that keeps dying (a port taken, a broken install).
RESTART_BACKOFF_S = (0.0, 1.0, 2.0, 5.0, 10.0, 30.0)
STARTUP_TIMEOUT_S = 90.0


def backend_for(client_ip: str, n_backends: int) -> int:
    """Stable choice of backend for a client address (same IP, same process).

    >>> backend_for("192.168.1.20", 3) == backend_for("192.168.1.20", 3)
    True
    >>> sorted({backend_for(f"10.0.0.{i}", 3) for i in range(60)})
    [0, 1, 2]
    """
    digest = hashlib.sha256(client_ip.encode()).digest()
    return int.from_bytes(digest[:4], "big") % n_backends


def choose_backend(client_ip: str, healthy: Sequence[bool]) -> int | None:
    """The client's own backend while it is up, else the next one that is (round the ring).

    Clients of a live backend never move; clients of a dead one spread to its neighbour and
    come home when it is back. ``None`` when no backend is up.

    >>> ip = next(f"10.0.0.{i}" for i in range(99) if backend_for(f"10.0.0.{i}", 3) == 1)
    >>> choose_backend(ip, [True, True, True]), choose_backend(ip, [True, False, True])
    (1, 2)
    >>> choose_backend(ip, [True, False, False]), choose_backend(ip, [False, False, False])
    (0, None)
    """
    n = len(healthy)
    if n == 0:
        return None
    start = backend_for(client_ip, n)
    for step in range(n):
        i = (start + step) % n
        if healthy[i]:
            return i
    return None


def rewrite_request_head(head: bytes, client_ip: str) -> bytes:
    """The request head with the client's real address and one request per connection.

    Drops every ``X-Forwarded-For``, ``Forwarded`` and ``X-Real-IP`` the client sent, adds
    ``X-Forwarded-For: <client_ip>``; a request that is not a websocket upgrade gets
    ``Connection: close`` instead of its own ``Connection`` header.

    >>> rewrite_request_head(b"GET / HTTP/1.1\\r\\nHost: a\\r\\nX-Forwarded-For: 6.6.6.6\\r\\n\\r\\n", "10.0.0.9")
    b'GET / HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\nX-Forwarded-For: 10.0.0.9\\r\\n\\r\\n'
    """
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    request_line, headers = lines[0], lines[1:]
    names = [h.split(b":", 1)[0].strip().lower() for h in headers]
    upgrade = any(
        n == b"upgrade" and h.split(b":", 1)[1].strip().lower() == b"websocket"
        for n, h in zip(names, headers, strict=True)
        if b":" in h
    )
    dropped = {b"x-forwarded-for", b"forwarded", b"x-real-ip"} | (set() if upgrade else {b"connection"})
    kept = [h for n, h in zip(names, headers, strict=True) if n not in dropped]
    if not upgrade:
        kept.append(b"Connection: close")
    kept.append(b"X-Forwarded-For: " + client_ip.encode("ascii", "replace"))
    return b"\r\n".join([request_line, *kept]) + b"\r\n\r\n"


@dataclass
class Backend:
    """One Streamlit process (``proc`` is None for a backend this launcher did not start)."""

    port: int
    proc: subprocess.Popen[bytes] | None
    healthy: bool = False
    restarts: int = 0
    #: Monotonic time before which the supervisor does not start it again (back-off).
    next_start_s: float = 0.0
    started_s: float = field(default_factory=time.monotonic)


def _streamlit_cmd(port: int, extra_args: Sequence[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "streamlit_app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        *extra_args,
    ]


def _spawn(port: int, extra_args: Sequence[str]) -> subprocess.Popen[bytes]:
    """A backend inherits this process's environment as it is: its settings are the launcher's."""
    return subprocess.Popen(_streamlit_cmd(port, extra_args), cwd=REPO)


def _healthy(port: int, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=timeout_s) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def start_backends(n: int, first_port: int, extra_args: Sequence[str] = ()) -> list[Backend]:
    """Start N Streamlit processes on loopback and wait until each answers its health check."""
    backends = [Backend(first_port + i, _spawn(first_port + i, extra_args)) for i in range(n)]
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        for b in backends:
            while not _healthy(b.port):
                assert b.proc is not None
                if b.proc.poll() is not None:
                    raise RuntimeError(
                        f"streamlit on port {b.port} exited with {b.proc.returncode} (port in use?)"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit on port {b.port} did not start")
                time.sleep(0.3)
            b.healthy = True
    except RuntimeError:
        stop_backends(backends)  # never leave half a cluster running
        raise
    return backends


def stop_backends(backends: Sequence[Backend], grace_s: float = 10.0) -> None:
    """Terminate every backend, then kill what has not exited after ``grace_s``."""
    for b in backends:
        if b.proc is not None and b.proc.poll() is None:
            b.proc.terminate()
    deadline = time.monotonic() + grace_s
    for b in backends:
        if b.proc is None:
            continue
        try:
            b.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            b.proc.kill()
            b.proc.wait(timeout=10)


async def supervise(
    backends: Sequence[Backend],
    extra_args: Sequence[str] = (),
    interval_s: float = 0.5,
) -> None:
    """Restart backends that exit, and route around them until they answer again (logged).

    Also re-admits a backend the proxy marked down after a refused connection, once its
    health check passes again. A backend that keeps dying is restarted with a growing pause
    (:data:`RESTART_BACKOFF_S`); one that stayed up a minute starts the pauses afresh.
    """
    while True:
        now = time.monotonic()
        for i, b in enumerate(backends):
            if b.proc is None:
                continue
            code = b.proc.poll()
            if code is not None:
                if b.next_start_s == 0.0:  # first look at this exit
                    if now - b.started_s > 60.0:
                        b.restarts = 0
                    _LOG.error(
                        "backend %d (port %d, pid %d) exited with code %s; its clients go to the "
                        "other backends until it is back",
                        i + 1,
                        b.port,
                        b.proc.pid,
                        code,
                    )
                    b.healthy = False
                    b.next_start_s = now + RESTART_BACKOFF_S[min(b.restarts, len(RESTART_BACKOFF_S) - 1)]
                if now >= b.next_start_s:
                    b.restarts += 1
                    b.proc = _spawn(b.port, extra_args)
                    b.started_s = now
                    b.next_start_s = 0.0
                    _LOG.warning(
                        "backend %d restarted on port %d (pid %d, restart %d)",
                        i + 1,
                        b.port,
                        b.proc.pid,
                        b.restarts,
                    )
                continue
            if not b.healthy and await asyncio.to_thread(_healthy, b.port, 1.0):
                b.healthy = True
                _LOG.warning(
                    "backend %d on port %d answers again; its clients are sent back to it", i + 1, b.port
                )
        await asyncio.sleep(interval_s)


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


async def _read_head(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """The request head (through the blank line) and any bytes read after it; None if not HTTP."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = await reader.read(65536)
        if not chunk:
            return None
        buf += chunk
        if len(buf) > MAX_HEAD_BYTES and b"\r\n\r\n" not in buf[:MAX_HEAD_BYTES]:
            return None
    end = buf.index(b"\r\n\r\n") + 4
    return buf[:end], buf[end:]


async def proxy(
    host: str,
    port: int,
    backends: Sequence[Backend | int],
    ready: asyncio.Event | None = None,
) -> None:
    """Sticky proxy: each client address to its backend (or the next live one), bytes untouched
    apart from the request head (see :func:`rewrite_request_head`). ``backends`` are shared
    with :func:`supervise`, which flips their ``healthy`` flags; bare ports count as healthy."""
    pool = [b if isinstance(b, Backend) else Backend(b, None, healthy=True) for b in backends]

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        peer = client_w.get_extra_info("peername") or ("0.0.0.0", 0)
        ip = str(peer[0])
        try:
            head = await asyncio.wait_for(_read_head(client_r), HEAD_TIMEOUT_S)
        except (TimeoutError, ConnectionError):
            head = None
        if head is None:
            client_w.close()
            return
        upstream = None
        for _ in range(len(pool)):
            i = choose_backend(ip, [b.healthy for b in pool])
            if i is None:
                break
            try:
                upstream = await asyncio.open_connection("127.0.0.1", pool[i].port)
                break
            except OSError:
                if pool[i].healthy:
                    _LOG.error(
                        "backend %d (port %d) refused a connection; routing around it", i + 1, pool[i].port
                    )
                pool[i].healthy = False
        if upstream is None:
            client_w.close()
            return
        up_r, up_w = upstream
        up_w.write(rewrite_request_head(head[0], ip) + head[1])
        await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))

    server = await asyncio.start_server(handle, host, port)
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


async def _run(host: str, port: int, backends: Sequence[Backend], extra_args: Sequence[str]) -> None:
    """Proxy and supervisor until SIGTERM/SIGINT (or until one of them fails)."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    tasks = [
        asyncio.create_task(proxy(host, port, backends)),
        asyncio.create_task(supervise(backends, extra_args)),
        asyncio.create_task(stopping.wait()),
    ]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for t in done:
        t.result()  # a crashed proxy or supervisor is raised, not swallowed


def serve(processes: int, host: str, port: int, extra_args: Sequence[str] = ()) -> int:
    if processes < 1:
        raise SystemExit("--processes must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    backends = start_backends(processes, port + 1, extra_args)
    pids = ", ".join(f"port {b.port} pid {b.proc.pid}" for b in backends if b.proc is not None)
    print(
        f"{processes} Streamlit process(es) ({pids}); "
        f"open http://{host if host != '0.0.0.0' else '127.0.0.1'}:{port}",
        flush=True,
    )
    try:
        asyncio.run(_run(host, port, backends, extra_args))
    finally:
        stop_backends(backends)
    return 0
