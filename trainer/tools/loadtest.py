"""``python -m trainer loadtest``: simulated phones speaking Streamlit's own websocket protocol.

Why a protocol client and not browsers: 200 headless Chromiums do not fit on the machine that
serves the class, but 200 websockets do. Each simulated player does what a phone's page does
(DESIGN.md §5, "A protocol-level load client"): it opens ``/_stcore/stream`` with the
``streamlit`` subprotocol, sends ``BackMsg.rerun_script`` with the query string and widget
states, reads ``ForwardMsg`` until ``script_finished``, and answers the ``auto_rerun`` timers of
the page's ``st.fragment(run_every=...)`` with fragment reruns, so the server sees the same
polling load as from real phones. Widget ids are learnt from the ``new_element`` deltas by the
stable user keys of docs/live-class.md §5 (``join_code``, ``join_pb_{i}``, ``join_send_{i}`` …).

The host is simulated in this process through :mod:`trainer.live.service` against the same database
(create, open, close when everyone answered or time is up, reveal, finish). It polls
``count_answers``/``list_answers`` every ``poll_s`` to time *answer sent → visible to the host*.

Bounded on purpose: loopback URLs only, at most :data:`MAX_PLAYERS` players, a wall-clock
timeout on the whole run and on every read, and every socket closed on the way out.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import os
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streamlit.proto import BackMsg_pb2, ForwardMsg_pb2, WidgetStates_pb2

from trainer.errors import ConflictError, RuleError, TrainerError

__all__ = [
    "MAX_PLAYERS",
    "LoadConfig",
    "LoadTestError",
    "Target",
    "check_url",
    "percentile",
    "run_loadtest",
    "server_pids",
]

MAX_PLAYERS = 500
MAX_QUESTIONS = 20
MAX_TIMEOUT_S = 1800.0
#: A single rerun that takes longer than this means the server is gone or wedged.
RERUN_TIMEOUT_S = 90.0
#: How many error lines the report keeps (the count is always exact).
MAX_ERRORS_KEPT = 40

_KEY_RE = re.compile(r"^\$\$ID-[0-9a-f]+-(.+)$")
_QUESTION_RE = re.compile(r"Question (\d+) of (\d+)")
#: Streamlit's internal prefix for the trigger widget of a v2 component (``<base>__events``).
_TRIGGER_PREFIX = "$$STREAMLIT_INTERNAL_KEY"
_DONE_STATUSES = (0, 1, 3)  # FINISHED_SUCCESSFULLY, _WITH_COMPILE_ERROR, FINISHED_FRAGMENT_RUN_SUCCESSFULLY


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
    trainer.tools.loadtest.LoadTestError: refusing 'http://example.org:8501': the load test only connects to loopback (127.0.0.0/8, ::1 or localhost)
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


def _cpu_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _is_streamlit(pid: int) -> bool:
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


def _r(value: float | None, nd: int = 1) -> float | None:
    return None if value is None else round(float(value), nd)


# --------------------------------------------------------------------------------------------
# The protocol client (one simulated browser tab)
# --------------------------------------------------------------------------------------------


def _protos() -> tuple[Any, Any, Any]:
    """Streamlit's protobuf message classes (the wire format this tool speaks).

    The tools package may import ``streamlit.proto`` (tests/test_layering.py says so); the app's
    core and features may not import streamlit at all.
    """
    return BackMsg_pb2.BackMsg, ForwardMsg_pb2.ForwardMsg, WidgetStates_pb2.WidgetState


@dataclass
class ElementInfo:
    """What a player needs to know about one keyed element of the current page."""

    kind: str
    widget_id: str
    disabled: bool = False
    data: dict[str, Any] | None = None
    fragment_id: str = ""  # the fragment it was drawn in: its widgets rerun only that fragment


@dataclass
class _Shared:
    """Everything the players and the host of one run report to each other (one event loop)."""

    deadline: float
    code: str = ""
    reruns: int = 0
    rerun_ms: dict[str, list[float]] = field(default_factory=dict)
    joined: set[str] = field(default_factory=set)
    join_failed: set[str] = field(default_factory=set)
    dead: set[str] = field(default_factory=set)
    sent_at: dict[tuple[int, str], float] = field(default_factory=dict)
    sent_wall: dict[tuple[int, str], datetime] = field(default_factory=dict)
    seen_at: dict[tuple[int, str], float] = field(default_factory=dict)
    refused: int = 0
    revealed: dict[int, set[str]] = field(default_factory=dict)
    finished_seen: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    n_errors: int = 0

    def error(self, text: str) -> None:
        self.n_errors += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(text[:300])

    def left(self) -> float:
        return self.deadline - time.monotonic()


class StreamlitClient:
    """A page in a browser tab, reduced to its protocol: query string, widgets, fragment timers."""

    def __init__(self, ws: Any, shared: _Shared, page_name: str, query_string: str) -> None:
        self.ws = ws
        self.shared = shared
        self.page_name = page_name
        self.page_hash = ""
        self.query_string = query_string
        self.elements: dict[str, ElementInfo] = {}
        self.texts: list[str] = []  # drawn by the full script run
        self.fragment_texts: dict[str, list[str]] = {}  # drawn inside each fragment
        self.timers: dict[str, list[float]] = {}  # fragment id -> [interval_s, next due]
        self.BackMsg, self.ForwardMsg, self.WidgetState = _protos()

    # -- widget states ------------------------------------------------------------------
    def widget(self, key: str) -> ElementInfo | None:
        return self.elements.get(key)

    def trigger(self, widget_id: str) -> Any:
        w = self.WidgetState(id=widget_id)
        w.trigger_value = True
        return w

    def string(self, widget_id: str, value: str) -> Any:
        w = self.WidgetState(id=widget_id)
        w.string_value = value
        return w

    def component_event(self, base_id: str, event: str, value: dict[str, Any]) -> Any:
        """A v2 component's ``setTriggerValue(event, value)``: one JSON trigger per component."""
        w = self.WidgetState(id=f"{_TRIGGER_PREFIX}_{base_id}__events")
        w.json_trigger_value = json.dumps([{"event": event, "value": value}])
        return w

    def has_text(self, needle: str) -> bool:
        return any(needle in t for t in self.texts) or any(
            needle in t for texts in self.fragment_texts.values() for t in texts
        )

    def question_shown(self) -> int | None:
        """0-based index of the question on the page ("Question 2 of 3"), or None."""
        for t in self.texts:
            m = _QUESTION_RE.search(t)
            if m:
                return int(m.group(1)) - 1
        return None

    # -- one rerun ----------------------------------------------------------------------
    async def rerun(
        self, widgets: Sequence[Any] = (), kind: str = "full", fragment_id: str = "", auto: bool = False
    ) -> float:
        """Send one ``rerun_script`` and read until its final ``script_finished``; returns ms.

        With ``fragment_id`` only that fragment runs, as the browser asks when a widget inside
        a fragment changes (``auto=False``) or a fragment's ``run_every`` timer fires (``auto``).
        """
        msg = self.BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        if self.page_hash:
            cs.page_script_hash = self.page_hash
        else:
            cs.page_name = self.page_name
        if fragment_id:
            cs.fragment_id = fragment_id
            cs.is_auto_rerun = auto
            # The fragment redraws its own part of the page.
            self.fragment_texts[fragment_id] = []
            for key in [k for k, e in self.elements.items() if e.fragment_id == fragment_id]:
                del self.elements[key]
        for w in widgets:
            cs.widget_states.widgets.append(w)
        t0 = time.monotonic()
        await self.ws.send(msg.SerializeToString())
        self.shared.reruns += 1
        limit = min(RERUN_TIMEOUT_S, max(self.shared.left(), 1.0))
        end = t0 + limit
        for _ in range(100_000):  # bounded: a run sends far fewer messages than this
            raw = await asyncio.wait_for(self.ws.recv(), timeout=max(end - time.monotonic(), 0.01))
            if self._handle(raw):
                break
        else:
            raise LoadTestError("a rerun sent more than 100000 messages")
        ms = (time.monotonic() - t0) * 1000.0
        self.shared.rerun_ms.setdefault(kind, []).append(ms)
        return ms

    def _handle(self, raw: bytes | str) -> bool:
        """Apply one ForwardMsg to the page; True when the requested run has finished."""
        fm = self.ForwardMsg()
        fm.ParseFromString(raw if isinstance(raw, bytes) else raw.encode())
        kind = fm.WhichOneof("type")
        if kind == "new_session" and not fm.metadata.run.fragment_ids:
            # A full script run starts (fragment runs send new_session too, tagged with their
            # fragment ids): the page is rebuilt from scratch and re-registers its timers.
            self.elements.clear()
            self.texts = []
            self.fragment_texts = {}
            self.timers.clear()
            if fm.new_session.page_script_hash:
                self.page_hash = fm.new_session.page_script_hash
        elif kind == "navigation":
            if fm.navigation.page_script_hash:
                self.page_hash = fm.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = fm.page_info_changed.query_string
        elif kind == "auto_rerun":
            iv = max(float(fm.auto_rerun.interval), 0.1)
            self.timers[fm.auto_rerun.fragment_id] = [iv, time.monotonic() + iv]
        elif kind == "stop_auto_rerun":
            for fid in fm.stop_auto_rerun.fragment_ids:
                self.timers.pop(fid, None)
        elif kind == "page_not_found":
            raise LoadTestError(f"the server has no page {self.page_name!r}")
        elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
            self._element(fm.delta.new_element, fm.delta.fragment_id)
        elif kind == "script_finished":
            if fm.script_finished == 1:
                self.shared.error("server: script compile error")
            return int(fm.script_finished) in _DONE_STATUSES
        return False

    def _element(self, element: Any, fragment_id: str) -> None:
        etype = element.WhichOneof("type")
        if etype is None:
            return
        sub = getattr(element, etype)
        names = sub.DESCRIPTOR.fields_by_name
        texts = self.fragment_texts.setdefault(fragment_id, []) if fragment_id else self.texts
        for name in ("label", "body", "message"):
            if name in names and names[name].type == names[name].TYPE_STRING:
                value = getattr(sub, name)
                if value:
                    texts.append(value)
        if etype == "exception":
            self.shared.error(f"server exception: {sub.type}: {sub.message}")
        wid = getattr(sub, "id", "") if "id" in names else ""
        m = _KEY_RE.match(wid) if wid else None
        if m is None:
            return
        data = None
        if etype == "bidi_component" and sub.json:
            try:
                data = json.loads(sub.json)
            except ValueError:
                data = None
        self.elements[m.group(1)] = ElementInfo(
            etype, wid, bool(getattr(sub, "disabled", False)), data, fragment_id
        )

    # -- fragment timers ----------------------------------------------------------------
    async def idle(self, seconds: float) -> None:
        """Wait ``seconds`` as an open page does: every fragment timer that falls due reruns."""
        until = time.monotonic() + seconds
        for _ in range(100_000):
            if time.monotonic() >= until or self.shared.left() <= 0:
                return
            if not await self.tick(until):
                return

    async def tick(self, until: float | None = None) -> bool:
        """Sleep to the next fragment timer (not past ``until``) and run it; False if none."""
        if not self.timers:
            await asyncio.sleep(min(0.5, max(self.shared.left(), 0)))
            return False
        fid, (iv, due) = min(self.timers.items(), key=lambda kv: kv[1][1])
        stop = min(x for x in (until, self.shared.deadline) if x is not None)
        wait = due - time.monotonic()
        if due > stop:
            await asyncio.sleep(max(stop - time.monotonic(), 0))
            return False
        if wait > 0:
            await asyncio.sleep(wait)
        now = time.monotonic()
        # setInterval semantics: fixed rate, but a late tick is not followed by a burst.
        self.timers[fid] = [iv, due + iv if due + iv > now else now + iv]
        await self.rerun(kind="poll", fragment_id=fid, auto=True)
        return True


# --------------------------------------------------------------------------------------------
# A simulated player
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionPlan:
    """Where a tap lands: near the target (the simulator knows it; the phone is never told)."""

    index: int
    question_id: str
    target_px: tuple[float, float] | None
    width_px: int
    height_px: int


async def _wait_for(client: StreamlitClient, shared: _Shared, ready: Any) -> bool:
    """Poll (by the page's own fragment timers) until ``ready()``; False at the deadline."""
    for _ in range(1_000_000):
        if ready():
            return True
        if shared.left() <= 0:
            return False
        await client.tick()
    return False


async def _player(
    shared: _Shared,
    number: int,
    target: Target,
    plans: Sequence[QuestionPlan],
    rng: random.Random,
    start_delay_s: float,
    think_s: tuple[float, float],
    tag: str,
) -> None:
    """One phone: join, answer every question, watch every reveal, see the end, disconnect."""
    from websockets.asyncio.client import connect

    nick = f"lt{tag}-{number:03d}"
    await asyncio.sleep(start_delay_s)
    kwargs: dict[str, Any] = {}
    if target.ipv4:
        # A distinct loopback source address per phone (127.1.x.y): a sticky proxy keyed on
        # the client IP (``trainer serve``, nginx ip_hash) then spreads players as real phones.
        kwargs["local_addr"] = (f"127.1.{number // 250}.{number % 250 + 1}", 0)
    try:
        async with connect(
            target.ws_url,
            subprotocols=["streamlit"],
            proxy=None,
            open_timeout=30,
            close_timeout=3,
            max_size=32 * 2**20,
            ping_interval=None,
            **kwargs,
        ) as ws:
            client = StreamlitClient(ws, shared, "join", f"code={shared.code}")
            await _play(shared, client, nick, plans, rng, think_s)
    except Exception as exc:  # OSError, TimeoutError, websockets' ConnectionClosed…: this phone is gone
        shared.error(f"{nick}: {type(exc).__name__}: {exc}")
    finally:
        shared.dead.add(nick)
        if nick not in shared.joined:
            shared.join_failed.add(nick)


async def _join(client: StreamlitClient, code: str, nick: str) -> None:
    """Open /join and send the form, as a phone does; raises unless the page took the join."""
    await client.rerun(kind="load")
    code_w, nick_w, go_w = (client.widget(k) for k in ("join_code", "join_nick", "join_go"))
    if code_w is None or nick_w is None or go_w is None:
        raise LoadTestError(f"join form keys not found on /join (texts: {client.texts[:5]})")
    await client.rerun(
        [
            client.string(code_w.widget_id, code),
            client.string(nick_w.widget_id, nick),
            client.trigger(go_w.widget_id),
        ],
        kind="join",
    )
    if "token=" not in client.query_string:
        raise LoadTestError(f"join refused (texts: {client.texts[:5]})")


async def _play(
    shared: _Shared,
    client: StreamlitClient,
    nick: str,
    plans: Sequence[QuestionPlan],
    rng: random.Random,
    think_s: tuple[float, float],
) -> None:
    await _join(client, shared.code, nick)
    shared.joined.add(nick)

    for plan in plans:
        i = plan.index
        pb_key, send_key = f"join_pb_{i}", f"join_send_{i}"

        def moved_on(i: int = i) -> bool:
            q = client.question_shown()
            return client.has_text("Class finished") or (q is not None and q > i)

        def answerable(pb_key: str = pb_key, send_key: str = send_key) -> bool:
            pb = client.widget(pb_key)
            return (
                pb is not None and bool((pb.data or {}).get("active")) and client.widget(send_key) is not None
            )

        if not await _wait_for(client, shared, lambda: answerable() or moved_on()):
            return
        if answerable():
            await client.idle(rng.uniform(*think_s))  # reading the prompt; the page keeps polling
        if answerable():
            pb = client.widget(pb_key)
            assert pb is not None
            data = pb.data or {}
            w, h = float(data.get("width") or plan.width_px), float(data.get("height") or plan.height_px)
            if plan.target_px is not None:
                x, y = (
                    plan.target_px[0] + rng.gauss(0, 0.03 * w),
                    plan.target_px[1] + rng.gauss(0, 0.03 * w),
                )
            else:
                x, y = rng.uniform(0.3, 0.7) * w, rng.uniform(0.2, 0.8) * h
            click = {
                "x": min(max(x, 0.0), w),
                "y": min(max(y, 0.0), h),
                "pointer": "touch",
                "seq": int(data.get("seq", i)),
                "n": 1,
            }
            await client.rerun(
                [client.component_event(pb.widget_id, "click", click)], kind="tap", fragment_id=pb.fragment_id
            )
            send = client.widget(send_key)
            if send is None or send.disabled:
                shared.error(f"{nick}: q{i + 1}: the tap did not enable Submit")
            else:
                shared.sent_at[(i, nick)] = time.monotonic()
                shared.sent_wall[(i, nick)] = datetime.now(UTC)
                await client.rerun(
                    [client.trigger(send.widget_id)], kind="submit", fragment_id=send.fragment_id
                )
                # The host may close and reveal while this rerun is still running (the answer
                # was the last one), so a reveal that shows a score also confirms it.
                received = (
                    client.has_text("Answer received")
                    or client.has_text("Already received")
                    or (client.has_text("Your rank") and not client.has_text("You did not answer"))
                )
                if not received:
                    shared.refused += 1
                    shared.error(f"{nick}: q{i + 1}: submit not confirmed (texts: {client.texts[-3:]})")

        def revealed(i: int = i) -> bool:
            return client.question_shown() == i and (
                client.has_text("Your rank") or client.has_text("You did not answer")
            )

        if await _wait_for(client, shared, lambda: revealed() or moved_on()) and revealed():
            shared.revealed.setdefault(i, set()).add(nick)
    if await _wait_for(client, shared, lambda: client.has_text("Class finished")):
        shared.finished_seen.add(nick)


# --------------------------------------------------------------------------------------------
# The simulated host (in process, through trainer.live.service)
# --------------------------------------------------------------------------------------------


async def _host(
    shared: _Shared,
    store: Any,
    session_id: str,
    n_questions: int,
    n_players: int,
    poll_s: float,
    reveal_wait_s: float,
) -> dict[str, Any]:
    """Open, watch (timing each answer's arrival), close, reveal, and finally finish the class."""
    from trainer.live import service as live

    def now() -> datetime:
        return datetime.now(UTC)

    for _ in range(10_000_000):  # wait for the joins
        if len(shared.joined | shared.join_failed) >= n_players or shared.left() <= 0:
            break
        await asyncio.sleep(0.1)
    names: dict[str, str] = {}
    closes: list[str] = []
    for i in range(n_questions):
        if shared.left() <= 0:
            break
        s = await asyncio.to_thread(live.open_next, store, session_id, now())
        closes_at = s.question_closes_at
        seen: set[str] = set()
        reason = "deadline"
        for _ in range(10_000_000):
            n = await asyncio.to_thread(store.count_answers, session_id, i)
            if n > len(seen):
                answers = await asyncio.to_thread(store.list_answers, session_id, i)
                t = time.monotonic()
                if any(a.player_id not in names for a in answers):
                    names = {
                        p.id: p.nickname for p in await asyncio.to_thread(store.list_players, session_id)
                    }
                for a in answers:
                    nick = names.get(a.player_id, a.player_id)
                    if nick not in seen:
                        seen.add(nick)
                        shared.seen_at.setdefault((i, nick), t)
            expected = shared.joined - (shared.dead - seen)
            if expected and expected <= seen:
                reason = "all answered"
                break
            if not (shared.joined - shared.dead):
                reason = "no players left"
                break
            if closes_at is not None and now() >= closes_at:
                reason = "time up"
                break
            if shared.left() <= 0:
                break
            await asyncio.sleep(poll_s)
        closes.append(reason)
        for step in (live.close_now, live.reveal_answer):
            try:
                await asyncio.to_thread(step, store, session_id, now())
            except (RuleError, ConflictError) as exc:
                shared.error(f"host: q{i + 1}: {step.__name__}: {exc}")
        end = time.monotonic() + reveal_wait_s
        while time.monotonic() < end and shared.left() > 0:  # let the phones show the reveal
            if (shared.joined - shared.dead) <= shared.revealed.get(i, set()):
                break
            await asyncio.sleep(0.1)
    try:
        await asyncio.to_thread(live.finish_class, store, session_id, now())
    except (RuleError, ConflictError) as exc:
        shared.error(f"host: finish: {exc}")
    return {"closed_by": closes}


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadConfig:
    """Everything one run needs; defaults are those of the command line."""

    players: int
    urls: tuple[str, ...]
    questions: int = 3
    time_limit_s: float = 60.0
    timeout_s: float | None = None
    database_url: str | None = None
    atlas_dir: Path | None = None
    quiz_dir: Path | None = None
    think_s: tuple[float, float] = (1.0, 4.0)
    ramp_s: float | None = None
    poll_s: float = 0.05
    reveal_wait_s: float = 15.0
    seed: int | None = None
    question_ids: tuple[str, ...] = ()

    def checked(self) -> tuple[list[Target], float, float]:
        """Refuse unbounded or non-loopback runs before anything connects."""
        if not 1 <= self.players <= MAX_PLAYERS:
            raise LoadTestError(f"--players must be between 1 and {MAX_PLAYERS}")
        if not 1 <= self.questions <= MAX_QUESTIONS:
            raise LoadTestError(f"--questions must be between 1 and {MAX_QUESTIONS}")
        if not 5 <= self.time_limit_s <= 600:
            raise LoadTestError("--time-limit must be between 5 and 600 seconds")
        if not self.urls:
            raise LoadTestError("give at least one --url")
        if not (0 <= self.think_s[0] <= self.think_s[1] <= 60):
            raise LoadTestError("think time must satisfy 0 <= min <= max <= 60 s")
        targets = [check_url(u) for u in self.urls]
        ramp = self.ramp_s if self.ramp_s is not None else min(0.4 * self.players, 120.0)
        if not 0 <= ramp <= 120:
            raise LoadTestError("--ramp must be between 0 and 120 seconds")
        auto = 120 + ramp + self.questions * (self.time_limit_s + self.reveal_wait_s + 30)
        timeout = self.timeout_s if self.timeout_s is not None else min(auto, MAX_TIMEOUT_S)
        if not 1 <= timeout <= MAX_TIMEOUT_S:
            raise LoadTestError(f"--timeout must be between 1 and {MAX_TIMEOUT_S:.0f} seconds")
        return targets, ramp, timeout


def _questions(cfg: LoadConfig, atlas: Any) -> dict[str, Any]:
    """The banks the app reads: ``--quizzes`` if given, else the shipped and the authored ones."""
    from trainer.quiz.bank import load_questions
    from trainer.settings import author_dir, quiz_dir

    folders = [cfg.quiz_dir] if cfg.quiz_dir else [quiz_dir()]
    if cfg.quiz_dir is None and author_dir().is_dir() and author_dir() != folders[0]:
        folders.append(author_dir())
    out: dict[str, Any] = {}
    for q in load_questions(atlas, folders):
        out.setdefault(q.id, q)  # as the app does: a shipped question is never replaced
    return out


def _plan(cfg: LoadConfig, atlas: Any, questions: dict[str, Any], body_type: str) -> list[QuestionPlan]:
    """The first ``questions`` one-pin questions with a rendered view (or the ids given)."""
    from trainer.atlas.rendered import load_rendered_view
    from trainer.errors import AtlasError
    from trainer.quiz.kinds import is_locate

    wanted = list(cfg.question_ids) or [qid for qid, q in questions.items() if is_locate(q) and q.view]
    plans: list[QuestionPlan] = []
    for qid in wanted:
        q = questions.get(qid)
        if q is None or not is_locate(q) or not q.view:
            if cfg.question_ids:
                raise LoadTestError(f"{qid}: not a locate question with a view in the banks")
            continue
        view_id = q.view if q.view in atlas.views else f"{q.view}_right"
        try:
            view = load_rendered_view(view_id, body_type, atlas.root)
        except (AtlasError, KeyError):
            continue
        target = None
        item = view.items.get(q.targets[0]) if q.targets else None
        if item is not None and len(item.points_px):
            target = (float(item.points_px[0][0]), float(item.points_px[0][1]))
        plans.append(QuestionPlan(len(plans), qid, target, view.width_px, view.height_px))
        if len(plans) == cfg.questions:
            break
    if len(plans) < cfg.questions:
        raise LoadTestError(
            f"only {len(plans)} locate question(s) with a rendered right-side view; asked for {cfg.questions}"
        )
    return plans


def run_loadtest(cfg: LoadConfig) -> dict[str, Any]:
    """Run one simulated class and return the report (see docs/live-class.md §6)."""
    from sqlalchemy.engine import make_url

    from trainer.atlas import load_atlas
    from trainer.live import service as live
    from trainer.rules.classroom import DEFAULT_MAX_PLAYERS, LiveSettings
    from trainer.settings import atlas_dir
    from trainer.store import default_url, open_store

    targets, ramp, timeout = cfg.checked()
    _protos()  # fail early if streamlit's protobufs are missing
    db_url = cfg.database_url or default_url()
    rng = random.Random(cfg.seed)
    atlas = load_atlas(cfg.atlas_dir or atlas_dir())
    body_type = atlas.default_body_type
    qs = _questions(cfg, atlas)
    plans = _plan(cfg, atlas, qs, body_type)
    store = open_store(url=db_url)
    try:
        tag = f"{rng.randrange(16**4):04x}"
        session = live.create_class(
            store,
            atlas,
            qs,
            title=f"loadtest {tag}",
            question_ids=[p.question_id for p in plans],
            host_key=f"loadtest-{tag}-{rng.random()}",
            # The class takes every simulated phone (the default cap is 300; the tool goes to 500).
            settings=LiveSettings(
                time_limit_s=cfg.time_limit_s, max_players=max(cfg.players, DEFAULT_MAX_PLAYERS)
            ),
            side="right",
            body_type=body_type,
            now=datetime.now(UTC),
            rng=rng,
        )
        ports = sorted({t.port for t in targets})
        pids = server_pids(ports)
        cpu0 = {pid: _cpu_ticks(pid) for pid in pids}
        load0 = os.getloadavg()
        client0 = os.times()
        t0 = time.monotonic()
        shared = _Shared(deadline=t0 + timeout, code=session.join_code)
        host_info = asyncio.run(_run_async(cfg, shared, store, session.id, targets, plans, rng, ramp, tag))
        elapsed = time.monotonic() - t0
        client1 = os.times()
        cpu1 = {pid: _cpu_ticks(pid) for pid in pids}
        stored_by_q = [store.count_answers(session.id, p.index) for p in plans]
    finally:
        store.close()

    hz = os.sysconf("SC_CLK_TCK")
    cpu_ms = {
        pid: (cpu1[pid] - c0) * 1000.0 / hz
        for pid, c0 in cpu0.items()
        if c0 is not None and cpu1.get(pid) is not None
    }
    streamlit_pids = [pid for pid in pids if _is_streamlit(pid)]
    total_cpu_ms = sum(cpu_ms.values())
    sent = len(shared.sent_at)
    stored = sum(stored_by_q)
    to_host = [(shared.seen_at[k] - t) * 1000.0 for k, t in shared.sent_at.items() if k in shared.seen_at]
    all_reruns = [ms for v in shared.rerun_ms.values() for ms in v]
    return {
        "players": cfg.players,
        "players_joined": len(shared.joined),
        "answers_sent": sent,
        "answers_stored": stored,
        "lost": sent - stored,
        "answers_refused": shared.refused,
        "p95_answer_to_host_ms": _r(percentile(to_host, 95)),
        "max_answer_to_host_ms": _r(max(to_host) if to_host else None),
        "answers_timed": len(to_host),
        "p95_player_rerun_ms": _r(percentile(all_reruns, 95)),
        "rerun_ms_by_kind": {
            k: {"n": len(v), "p50": _r(percentile(v, 50)), "p95": _r(percentile(v, 95)), "max": _r(max(v))}
            for k, v in sorted(shared.rerun_ms.items())
        },
        "reruns": shared.reruns,
        "server_cpu_ms": _r(total_cpu_ms) if cpu_ms else None,
        "server_cpu_ms_per_rerun": _r(total_cpu_ms / shared.reruns, 2) if cpu_ms and shared.reruns else None,
        "server_cpu_ms_by_pid": {str(pid): _r(ms) for pid, ms in cpu_ms.items()},
        "client_cpu_s": round((client1.user + client1.system) - (client0.user + client0.system), 2),
        "players_saw_end": len(shared.finished_seen),
        "host": host_info,
        "errors": shared.n_errors,
        "error_samples": shared.errors,
        "elapsed_s": round(elapsed, 1),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "loadavg_before": [round(x, 2) for x in load0],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "config": {
            "urls": list(cfg.urls),
            "processes": len(streamlit_pids) or None,
            "server_pids": pids,
            "database": make_url(db_url).get_backend_name(),
            "questions": len(plans),
            "question_ids": [p.question_id for p in plans],
            "time_limit_s": cfg.time_limit_s,
            "think_s": list(cfg.think_s),
            "ramp_s": ramp,
            "host_poll_s": cfg.poll_s,
            "timeout_s": timeout,
        },
    }


async def _run_async(
    cfg: LoadConfig,
    shared: _Shared,
    store: Any,
    session_id: str,
    targets: Sequence[Target],
    plans: Sequence[QuestionPlan],
    rng: random.Random,
    ramp: float,
    tag: str,
) -> dict[str, Any]:
    players = [
        asyncio.create_task(
            _player(
                shared,
                n,
                targets[n % len(targets)],
                plans,
                random.Random(rng.random()),
                ramp * n / max(cfg.players, 1),
                cfg.think_s,
                tag,
            )
        )
        for n in range(cfg.players)
    ]
    host = asyncio.create_task(
        _host(shared, store, session_id, len(plans), cfg.players, cfg.poll_s, cfg.reveal_wait_s)
    )
    try:
        done, pending = await asyncio.wait([host, *players], timeout=max(shared.left(), 0) + 10)
        for task in pending:  # only after the deadline: every loop above checks it
            task.cancel()
        if pending:
            shared.error(f"{len(pending)} task(s) still running at the deadline were cancelled")
            await asyncio.wait(pending, timeout=15)
    finally:
        for task in [host, *players]:
            if not task.done():
                task.cancel()
    if host.cancelled():
        return {"closed_by": ["cancelled"]}
    exc = host.exception()
    if exc is not None:
        shared.error(f"host: {type(exc).__name__}: {exc}")
        return {"closed_by": ["host failed"]}
    result: dict[str, Any] = host.result()
    return result


def format_report(report: dict[str, Any]) -> str:
    """A short human summary (``--json`` prints the whole object instead)."""
    lines = [
        f"players {report['players_joined']}/{report['players']}  answers sent {report['answers_sent']}  "
        f"stored {report['answers_stored']}  lost {report['lost']}",
        f"p95 answer→host {report['p95_answer_to_host_ms']} ms  p95 player rerun {report['p95_player_rerun_ms']} ms  "
        f"server CPU {report['server_cpu_ms_per_rerun']} ms/rerun over {report['reruns']} reruns",
        f"elapsed {report['elapsed_s']} s  processes {report['config']['processes']}  "
        f"database {report['config']['database']}  errors {report['errors']}",
    ]
    lines += [f"  {e}" for e in report["error_samples"][:10]]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Server CPU of one join-page run (``python -m trainer rerun-cost``)
# --------------------------------------------------------------------------------------------

MAX_COST_RUNS = 2000


async def _rerun_costs(
    target: Target, code: str, runs: int, open_question: Any
) -> dict[str, dict[str, float]]:
    """One phone joins, the question opens, then ``runs`` runs of each kind; CPU from /proc."""
    from websockets.asyncio.client import connect

    pids = server_pids([target.port])
    if not pids:
        raise LoadTestError(f"no process listens on port {target.port} (is the app running?)")
    hz = os.sysconf("SC_CLK_TCK")
    shared = _Shared(deadline=time.monotonic() + 600.0, code=code)
    async with connect(
        target.ws_url,
        subprotocols=["streamlit"],
        proxy=None,
        open_timeout=30,
        max_size=32 * 2**20,
        ping_interval=None,
    ) as ws:
        client = StreamlitClient(ws, shared, "join", f"code={code}")
        await _join(client, code, "rerun-cost")
        open_question()
        await client.rerun(kind="full")
        board = client.widget("join_pb_0")
        if board is None or not board.fragment_id or not client.timers:
            raise LoadTestError(f"the answer surface did not appear (texts: {client.texts[:5]})")
        kinds: dict[str, dict[str, Any]] = {
            "whole_page": {"kind": "full"},
            "poll_fragment": {"kind": "poll", "fragment_id": next(iter(client.timers)), "auto": True},
            "answer_fragment": {"kind": "tap", "fragment_id": board.fragment_id},
        }
        out: dict[str, dict[str, float]] = {}
        for label, kw in kinds.items():
            for _ in range(min(20, runs)):  # warm the caches first
                await client.rerun(**kw)
            cpu0 = sum(_cpu_ticks(p) or 0 for p in pids)
            wall0 = time.monotonic()
            for _ in range(runs):
                await client.rerun(**kw)
            wall_ms = (time.monotonic() - wall0) * 1000.0
            cpu_ms = (sum(_cpu_ticks(p) or 0 for p in pids) - cpu0) * 1000.0 / hz
            out[label] = {
                "server_cpu_ms_per_run": round(cpu_ms / runs, 2),
                "wall_ms_per_run": round(wall_ms / runs, 1),
            }
        if shared.n_errors:
            raise LoadTestError(f"the server reported errors: {shared.errors[:3]}")
        return out


def run_rerun_cost(
    url: str,
    runs: int,
    database_url: str | None = None,
    atlas: Path | None = None,
    quizzes: Path | None = None,
) -> dict[str, Any]:
    """Mean server CPU of a whole join-page run, a poll-fragment run and an answer-fragment run.

    One simulated phone on an otherwise idle server (docs/live-class.md §6). The class is
    created in the server's database, like ``loadtest`` does.
    """
    from trainer.atlas import load_atlas
    from trainer.live import service as live
    from trainer.rules.classroom import LiveSettings
    from trainer.settings import atlas_dir
    from trainer.store import default_url, open_store

    if not 1 <= runs <= MAX_COST_RUNS:
        raise LoadTestError(f"--runs must be between 1 and {MAX_COST_RUNS}")
    target = check_url(url)
    _protos()
    cfg = LoadConfig(players=1, urls=(url,), questions=1, quiz_dir=quizzes)
    loaded = load_atlas(atlas or atlas_dir())
    questions = _questions(cfg, loaded)
    plan = _plan(cfg, loaded, questions, loaded.default_body_type)[0]
    store = open_store(url=database_url or default_url())
    try:
        session = live.create_class(
            store,
            loaded,
            questions,
            title="rerun cost",
            question_ids=[plan.question_id],
            host_key=f"rerun-cost-{time.monotonic_ns()}",
            settings=LiveSettings(time_limit_s=600),
            side="right",
            body_type=loaded.default_body_type,
            now=datetime.now(UTC),
            rng=random.Random(1),
        )
        costs = asyncio.run(
            _rerun_costs(
                target, session.join_code, runs, lambda: live.open_next(store, session.id, datetime.now(UTC))
            )
        )
    finally:
        store.close()
    return {
        "runs": runs,
        "question_id": plan.question_id,
        **costs,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "url": url,
    }
