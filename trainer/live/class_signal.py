"""What a phone waits on during a class: the class's *view* (which question, which phase) and its
clock, served over plain HTTP (``GET /api/class/<code>?since=<view>``) instead of a Streamlit rerun.

Why: a Streamlit poll costs the server a script run (about 5 ms of CPU) every 3 s per phone, which
at 500 phones was most of two cores. Here a phone's request waits on the server (a long poll) and
is answered as soon as the view differs from the one the phone drew, or after :data:`HOLD_S`. The
server reads the database for a class at most every :data:`REFRESH_S` per process, whatever the
number of phones waiting. Only then does the phone rerun its page. Nothing here reveals an answer:
a view is the class id, phase and question number; the clock is what the countdown shows.

Pure: the database readers, the monotonic clock and the sleep are passed in.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trainer.errors import NotFoundError, RuleError
from trainer.live import service as live
from trainer.rules.classroom import Phase, normalise_join_code
from trainer.store.records import LiveSession, SessionClock

#: A phone's request is answered after this long even if nothing changed (then it asks again), so
#: a connection is never held open for long through proxies and Wi-Fi.
HOLD_S = 20.0
#: How stale a process's copy of a class's clock may be (one query per class per this period).
REFRESH_S = 0.25
#: How often a waiting request looks at that copy.
STEP_S = 0.25
#: A phone waits a random part of the class's *spread* before it reruns its page for a new view,
#: so a room does not ask the server for hundreds of page runs in the same instant. One join-page
#: run costs the server about 10 ms of CPU on an idle 2-core machine (``rerun-cost``), and far
#: more when hundreds run at once. Measured with 500 phones on ``serve --processes 2``
#: (docs/live-class.md §6): a 5-s spread (10 ms per phone) left the page runs queueing (p95 7 s,
#: taps 3.5 s); a 10-s spread (20 ms per phone) kept page runs, taps and Submits under 0.5 s at
#: p95. The price: a phone shows a new question up to the spread later (30 phones: 0.6 s; 100:
#: 2 s; 500 or more: 10 s), about what the old 3-s poll and its queue cost a full room.
SPREAD_PER_PLAYER_S = 0.020
MAX_SPREAD_S = 10.0


def view_key(session_id: str, phase: Phase, index: int) -> str:
    """What the phone compares: a change of class, phase or question means it redraws.

    >>> view_key("s1", Phase.OPEN, 2)
    's1:open:2'
    """
    return f"{session_id}:{phase.value}:{index}"


@dataclass(frozen=True)
class ClassSignal:
    """One answer to a phone: the view and the countdown's inputs (epoch ms, server time)."""

    view: str
    closes_ms: int | None
    paused: bool
    left_s: float
    server_now_ms: int
    spread_ms: int = 0

    @property
    def stamp(self) -> str:
        """Everything a phone shows from the signal: a change of any of it answers a waiting phone
        (a pause or "+30 s" updates its countdown; only a new view reruns its page)."""
        return f"{self.view}|{'p' if self.paused else 'r'}|{self.closes_ms}"

    def payload(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "stamp": self.stamp,
            "spread_ms": self.spread_ms,
            "closes_ms": self.closes_ms,
            "paused": self.paused,
            "left_s": round(self.left_s, 1),
            "server_now_ms": self.server_now_ms,
        }


def spread_ms(n_players: int) -> int:
    """The spread for a class of ``n_players`` (see :data:`SPREAD_PER_PLAYER_S`).

    >>> spread_ms(10), spread_ms(100), spread_ms(1000)
    (200, 2000, 10000)
    """
    return int(round(min(MAX_SPREAD_S, max(n_players, 0) * SPREAD_PER_PLAYER_S) * 1000))


def class_signal(clock: SessionClock | LiveSession, now: datetime, n_players: int = 0) -> ClassSignal:
    """The signal for ``clock`` at ``now``: an open question whose time is up reads as closed."""
    phase = live.effective_phase(clock, now)
    counting = phase is Phase.OPEN and clock.question_closes_at is not None
    return ClassSignal(
        view=view_key(clock.id, phase, clock.current_index),
        closes_ms=int(clock.question_closes_at.timestamp() * 1000)
        if counting and clock.question_closes_at
        else None,
        paused=live.is_paused(clock) if counting else False,
        left_s=live.seconds_left(clock, now) if counting else 0.0,
        server_now_ms=int(now.timestamp() * 1000),
        spread_ms=spread_ms(n_players),
    )


@dataclass
class _Entry:
    read_at: float
    clock: SessionClock | LiveSession | None  # None: no class with this code
    n_players: int = 0


class SignalBoard:
    """A process's recent copy of each watched class's clock, re-read at most every ``refresh_s``.

    ``session_id_for(code)`` and ``read_clock(session_id)`` (the clock and the number of players)
    are the store's queries; the board keeps the code → id mapping (it never changes) and one
    clock per class.
    """

    def __init__(
        self,
        session_id_for: Callable[[str], str],
        read_clock: Callable[[str], tuple[SessionClock | LiveSession, int]],
        monotonic: Callable[[], float],
        refresh_s: float = REFRESH_S,
    ) -> None:
        self._session_id_for = session_id_for
        self._read_clock = read_clock
        self._monotonic = monotonic
        self._refresh_s = refresh_s
        self._ids: dict[str, str | None] = {}
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def fresh(self, code: str) -> _Entry | None:
        """The copy if it is recent enough (no database access; safe on the event loop)."""
        entry = self._entries.get(code)
        if entry is not None and self._monotonic() - entry.read_at < self._refresh_s:
            return entry
        return None

    def refresh(self, code: str) -> _Entry:
        """Read the class again (blocking: run it off the event loop)."""
        with self._lock:
            entry = self.fresh(code)  # another request refreshed it meanwhile
            if entry is not None:
                return entry
            if code not in self._ids:
                try:
                    self._ids[code] = self._session_id_for(code)
                except (NotFoundError, RuleError):
                    self._ids[code] = None
            sid = self._ids[code]
            clock: SessionClock | LiveSession | None = None
            n_players = 0
            if sid is not None:
                try:
                    clock, n_players = self._read_clock(sid)
                except NotFoundError:
                    clock = None
            entry = _Entry(self._monotonic(), clock, n_players)
            self._entries[code] = entry
            return entry


def clean_code(raw: str) -> str | None:
    """The join code a request names, or None when it cannot be one (answered 404, no query).

    >>> clean_code("k7pm3q"), clean_code("../etc"), clean_code("")
    ('K7PM3Q', None, None)
    """
    try:
        return normalise_join_code(raw)
    except RuleError:
        return None


@dataclass
class _Watch:
    """The phones of one class waiting in this process: the latest signal and an event that is
    set (and replaced) whenever it changes."""

    signal: ClassSignal | None
    changed: asyncio.Event
    waiters: int = 0


class SignalHub:
    """Waiting phones of every class in one process. One task per class with waiting phones
    looks at the board every ``step_s`` (the board reads the database at most every
    ``REFRESH_S``); the phones sleep on an event and wake only when their class changed or their
    hold ran out. (A first version woke every waiting request every 0.25 s to look for itself:
    250 idle phones then cost a server process 0.17 of a core.)

    ``run_blocking`` runs a database read off the event loop; ``now`` is the wall clock.
    """

    def __init__(
        self,
        board: SignalBoard,
        now: Callable[[], datetime],
        run_blocking: Callable[[Callable[[], _Entry]], Awaitable[_Entry]],
        step_s: float = STEP_S,
    ) -> None:
        self._board = board
        self._now = now
        self._run_blocking = run_blocking
        self._step_s = step_s
        self._watches: dict[str, _Watch] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def _signal(self, code: str) -> ClassSignal | None:
        entry = self._board.fresh(code) or await self._run_blocking(lambda: self._board.refresh(code))
        return None if entry.clock is None else class_signal(entry.clock, self._now(), entry.n_players)

    async def _follow(self, code: str, watch: _Watch) -> None:
        """Keep ``watch`` current while phones wait on it; stop a few steps after the last left."""
        idle_steps = 0
        for _ in range(10_000_000):  # bounded; ends when no phone has waited for three steps
            await asyncio.sleep(self._step_s)
            if watch.waiters == 0:
                idle_steps += 1
                if idle_steps >= 3:
                    break
                continue
            idle_steps = 0
            try:
                signal = await self._signal(code)
            except Exception:  # noqa: BLE001 - a failed read must not end the class's watch
                continue
            old = watch.signal
            if signal is None or old is None or signal.stamp != old.stamp:
                watch.signal = signal
                event, watch.changed = watch.changed, asyncio.Event()
                event.set()
        if self._watches.get(code) is watch:
            del self._watches[code]

    async def wait(self, code: str, since: str, hold_s: float = HOLD_S) -> ClassSignal | None:
        """The class's signal as soon as its stamp differs from ``since`` (or after ``hold_s``);
        None when there is no class with this code."""
        signal = await self._signal(code)
        if signal is None or signal.stamp != since:
            return signal
        watch = self._watches.get(code)
        if watch is None:
            watch = self._watches[code] = _Watch(signal, asyncio.Event())
            task = asyncio.get_running_loop().create_task(self._follow(code, watch))
            self._tasks.add(task)  # keep a reference until it ends
            task.add_done_callback(self._tasks.discard)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + hold_s
        watch.waiters += 1
        try:
            for _ in range(10_000_000):  # bounded; each pass waits for a change or the deadline
                latest = watch.signal
                if latest is None:
                    return None
                if latest.stamp != since:
                    break
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(watch.changed.wait(), timeout=left)
                except TimeoutError:
                    pass
        finally:
            watch.waiters -= 1
        return await self._signal(code)  # as of now (the countdown's server time is current)
