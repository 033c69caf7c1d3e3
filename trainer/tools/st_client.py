"""A browser tab reduced to Streamlit's websocket protocol: query string, widgets, fragment timers.

The tools package may import ``streamlit.proto`` (tests/test_layering.py says so); the app's core
and features may not import streamlit at all."""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streamlit.proto import BackMsg_pb2, ForwardMsg_pb2, WidgetStates_pb2

from trainer.tools.load_bounds import (
    DONE_STATUSES,
    KEY_RE,
    MAX_ERRORS_KEPT,
    QUESTION_RE,
    RERUN_TIMEOUT_S,
    TRIGGER_PREFIX,
    LoadTestError,
)

# --------------------------------------------------------------------------------------------
# The protocol client (one simulated browser tab)
# --------------------------------------------------------------------------------------------


def protos() -> tuple[Any, Any, Any]:
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
class Shared:
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
    # The class watch (HTTP long polls) and when the host last moved the class on.
    state_requests: int = 0
    state_failures: int = 0
    moved_at: float | None = None
    phase_seen_ms: list[float] = field(default_factory=list)
    phase_told_ms: list[float] = field(default_factory=list)

    def error(self, text: str) -> None:
        self.n_errors += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(text[:300])

    def left(self) -> float:
        return self.deadline - time.monotonic()


#: The join page's class watcher (trainer/ui/components/class_watch.py) and the HTTP route it
#: waits on (trainer/ui/http_routes.py).
WATCH_KEY = "join_watch"
STATE_PATH = "/api/class/"
#: Longest wait for one class-state answer (the server holds a request at most 20 s).
STATE_TIMEOUT_S = 40.0


@dataclass(frozen=True)
class HttpOrigin:
    """Where this tab's plain HTTP requests go, from the same source address as its websocket."""

    host: str
    port: int
    local_addr: tuple[str, int] | None = None
    base_path: str = ""  # the app's base URL path, "" at the root


async def http_get_json(origin: HttpOrigin, path: str, timeout_s: float) -> tuple[int, Any]:
    """One ``GET`` (HTTP/1.1, ``Connection: close``) as a browser's ``fetch`` sends it."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(origin.host, origin.port, local_addr=origin.local_addr), timeout=timeout_s
    )
    try:
        head = f"GET {path} HTTP/1.1\r\nHost: {origin.host}:{origin.port}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(1 << 20), timeout=timeout_s)
        while True:  # the rest, until the server closes
            more = await asyncio.wait_for(reader.read(1 << 20), timeout=timeout_s)
            if not more:
                break
            raw += more
    finally:
        writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    status = int(status_line.split()[1]) if len(status_line.split()) > 1 else 0
    _, _, body = rest.partition(b"\r\n\r\n")
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, None


class StreamlitClient:
    """A page in a browser tab, reduced to its protocol: query string, widgets, fragment timers,
    and the class watcher's HTTP long polls."""

    def __init__(
        self,
        ws: Any,
        shared: Shared,
        page_name: str,
        query_string: str,
        http: HttpOrigin | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ws = ws
        self.http = http
        self.rng = rng or random.Random()
        self._state_task: asyncio.Task[tuple[int, Any]] | None = None
        self._since: tuple[str, str] | None = None  # (view drawn, last stamp the server gave)
        self.shared = shared
        self.page_name = page_name
        self.page_hash = ""
        self.query_string = query_string
        self.elements: dict[str, ElementInfo] = {}
        self.texts: list[str] = []  # drawn by the full script run
        self.fragment_texts: dict[str, list[str]] = {}  # drawn inside each fragment
        self.timers: dict[str, list[float]] = {}  # fragment id -> [interval_s, next due]
        self.BackMsg, self.ForwardMsg, self.WidgetState = protos()

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

    def component_event(self, base_id: str, event: str, value: Any) -> Any:
        """A v2 component's ``setTriggerValue(event, value)``: one JSON trigger per component."""
        w = self.WidgetState(id=f"{TRIGGER_PREFIX}_{base_id}__events")
        w.json_trigger_value = json.dumps([{"event": event, "value": value}])
        return w

    def has_text(self, needle: str) -> bool:
        return any(needle in t for t in self.texts) or any(
            needle in t for texts in self.fragment_texts.values() for t in texts
        )

    def question_shown(self) -> int | None:
        """0-based index of the question on the page ("Question 2 of 3"), or None."""
        for t in self.texts:
            m = QUESTION_RE.search(t)
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
        if kind == "new_session" and fm.metadata.run.fragment_ids:
            # A fragment run: those fragments redraw their part of the page.
            for fid in fm.metadata.run.fragment_ids:
                self.fragment_texts[fid] = []
                for key in [k for k, e in self.elements.items() if e.fragment_id == fid]:
                    del self.elements[key]
        elif kind == "new_session":
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
            return int(fm.script_finished) in DONE_STATUSES
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
        m = KEY_RE.match(wid) if wid else None
        if m is None:
            return
        data = None
        if etype == "bidi_component" and sub.json:
            try:
                data = json.loads(sub.json)
            except ValueError:
                data = None
            if isinstance(data, list):  # trainer.ui.components.component_data: a one-item list
                data = data[0] if data and isinstance(data[0], dict) else None
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
        """Wait as the open page does until something happens (not past ``until``); False if
        nothing did. The join page waits on the class over HTTP; other pages run their timers."""
        watch = self.elements.get(WATCH_KEY)
        if watch is not None and watch.data and self.http is not None:
            return await self._watch_class(watch, until)
        return await self._run_timer(until)

    async def _watch_class(self, watch: ElementInfo, until: float | None) -> bool:
        """The class watcher: keep one long poll open; on a new view, wait a random part of the
        class's spread and ask for a page run, exactly as the browser component does."""
        assert self.http is not None and watch.data is not None
        view = str(watch.data.get("view", ""))
        clock = watch.data.get("clock") or {}
        if self._since is None or self._since[0] != view:
            self._since = (view, str(clock.get("stamp") or view))
        if self._state_task is None:
            since = urllib.parse.quote(self._since[1], safe="")
            path = f"{self.http.base_path}{STATE_PATH}{watch.data.get('code', '')}?since={since}"
            self._state_task = asyncio.create_task(http_get_json(self.http, path, STATE_TIMEOUT_S))
            self.shared.state_requests += 1
        stop = min(x for x in (until, self.shared.deadline) if x is not None)
        done, _ = await asyncio.wait({self._state_task}, timeout=max(stop - time.monotonic(), 0))
        if not done:
            return False  # the request stays open while the learner reads or taps
        task, self._state_task = self._state_task, None
        try:
            status, body = task.result()
        except (OSError, TimeoutError) as exc:
            status, body = 0, {"error": str(exc)}
        if status != 200 or not isinstance(body, dict):
            self.shared.state_failures += 1
            if self.shared.state_failures <= 3:
                self.shared.error(f"class state: HTTP {status}: {str(body)[:100]}")
            await asyncio.sleep(1.0 + self.rng.random())
            return True
        self._since = (view, str(body.get("stamp", "")))
        if body.get("view") != view:
            if self.shared.moved_at is not None:  # the long poll's answer: the phone now knows
                self.shared.phase_told_ms.append((time.monotonic() - self.shared.moved_at) * 1000.0)
            await asyncio.sleep(self.rng.random() * float(body.get("spread_ms") or 0) / 1000.0)
            await self.rerun([self.component_event(watch.widget_id, "moved", body["view"])], kind="phase")
            if self.shared.moved_at is not None:
                self.shared.phase_seen_ms.append((time.monotonic() - self.shared.moved_at) * 1000.0)
        return True

    def close(self) -> None:
        """Drop an open long poll (the tab closes)."""
        if self._state_task is not None:
            self._state_task.cancel()
            self._state_task = None

    async def _run_timer(self, until: float | None = None) -> bool:
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
