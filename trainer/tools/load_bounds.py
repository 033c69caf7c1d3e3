"""Bounds and measurements of ``python -m trainer loadtest``: loopback URLs only, player and time
limits, the server's processes (CPU from /proc) and percentiles."""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from trainer.errors import TrainerError

MAX_PLAYERS = 1000
MAX_QUESTIONS = 20
MAX_TIMEOUT_S = 1800.0
#: A single rerun that takes longer than this means the server is gone or wedged.
RERUN_TIMEOUT_S = 90.0
#: How many error lines the report keeps (the count is always exact).
MAX_ERRORS_KEPT = 40

KEY_RE = re.compile(r"^\$\$ID-[0-9a-f]+-(.+)$")
QUESTION_RE = re.compile(r"Question (\d+) of (\d+)")
#: Streamlit's internal prefix for the trigger widget of a v2 component (``<base>__events``).
TRIGGER_PREFIX = "$$STREAMLIT_INTERNAL_KEY"
DONE_STATUSES = (0, 1, 3)  # FINISHED_SUCCESSFULLY, _WITH_COMPILE_ERROR, FINISHED_FRAGMENT_RUN_SUCCESSFULLY


class LoadTestError(TrainerError):
    """A load test that must not run (bad URL, bounds) or could not start (no class, no server)."""


# --------------------------------------------------------------------------------------------
# Targets: loopback only
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One server URL, checked to be on loopback, with its websocket endpoint."""

    url: str
    host: str
    port: int
    ws_url: str
    ipv4: bool


def check_url(url: str) -> Target:
    """Accept only loopback URLs: this tool generates real load and must never aim at others.

    >>> check_url("http://localhost:8501/join").ws_url
    'ws://127.0.0.1:8501/_stcore/stream'
    >>> check_url("http://example.org:8501")
    Traceback (most recent call last):
    ...
    trainer.tools.load_bounds.LoadTestError: refusing 'http://example.org:8501': the load test only connects to loopback (127.0.0.0/8, ::1 or localhost)
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https", "ws", "wss"):
        raise LoadTestError(f"refusing {url!r}: use an http:// or ws:// URL of a running app on this machine")
    host = (parts.hostname or "").lower()
    if host == "localhost":
        addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address("127.0.0.1")
    else:
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            addr = ipaddress.IPv4Address("0.0.0.0")  # any other name: refused below
    if not addr.is_loopback:
        raise LoadTestError(
            f"refusing {url!r}: the load test only connects to loopback (127.0.0.0/8, ::1 or localhost)"
        )
    try:
        port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    except ValueError as exc:
        raise LoadTestError(f"refusing {url!r}: bad port") from exc
    path = re.sub(r"/(join|host)/?$", "", parts.path).rstrip("/")
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    netloc = f"[{addr}]" if addr.version == 6 else str(addr)
    return Target(
        url=url,
        host=str(addr),
        port=port,
        ws_url=f"{scheme}://{netloc}:{port}{path}/_stcore/stream",
        ipv4=addr.version == 4,
    )


# --------------------------------------------------------------------------------------------
# Server CPU from /proc
# --------------------------------------------------------------------------------------------


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def _ppid_map() -> dict[int, int]:
    out: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            out[int(d.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return out


def server_pids(ports: Sequence[int]) -> list[int]:
    """Processes listening on ``ports`` plus their descendants (``serve``'s proxy → its backends).

    Only processes whose file descriptors this user may read are found (our own servers).
    """
    wanted: set[str] = set()
    for port in ports:
        wanted |= _listening_inodes(port)
    found: set[int] = set()
    if wanted:
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                for fd in (d / "fd").iterdir():
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in wanted:
                        found.add(int(d.name))
                        break
            except OSError:
                continue
    parents = _ppid_map()
    grew = True
    while grew:  # bounded: each pass adds at least one pid or stops
        grew = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return sorted(found)


def cpu_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def is_streamlit(pid: int) -> bool:
    try:
        return b"streamlit" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (no interpolation: every reported figure was really measured).

    >>> percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)
    10
    >>> percentile([], 95) is None
    True
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rounded(value: float | None, nd: int = 1) -> float | None:
    return None if value is None else round(float(value), nd)
