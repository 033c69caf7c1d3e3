"""One event-loop wake-up per burst of page output instead of one per element sent.

Why: Streamlit's script thread hands every element of a page run to the server's event loop
with ``loop.call_soon_threadsafe`` (``AppSession._call_soon_on_event_loop``), which writes to
the loop's wake-up socket each time; the woken loop thread then fights the script thread for
the interpreter lock. A py-spy profile of a phone's join-page run put about a quarter of the
server's CPU there (docs/research/join_page_cost.md). Here the callbacks of one session are
queued in order and the loop is woken only when it has no drain of that session pending, so a
run's elements reach the loop in one or a few wake-ups. The order of a session's callbacks and
the thread they run on are unchanged.

Installed once per server process (``streamlit_app.py``); a no-op if Streamlit's private method
is not there (another Streamlit version), so the app then runs as before.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

_LOG = logging.getLogger("trainer.ui")
_MARK = "_trainer_batched"


class CallbackBatch:
    """A session's callbacks waiting for the event loop, and whether a drain is scheduled."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queue: deque[Callable[[], None]] = deque()
        self.scheduled = False

    def add(self, callback: Callable[[], None]) -> bool:
        """Queue ``callback``; True if the caller must schedule a drain (none is pending)."""
        with self.lock:
            self.queue.append(callback)
            if self.scheduled:
                return False
            self.scheduled = True
            return True

    def cancel(self) -> None:
        """The loop refused the drain (it is closed): forget what was queued."""
        with self.lock:
            self.queue.clear()
            self.scheduled = False

    def drain(self) -> bool:
        """Run the queued callbacks in order (on the event loop); True if more were queued
        meanwhile (the caller schedules another drain, so other work on the loop goes first)."""
        with self.lock:
            batch = list(self.queue)
            self.queue.clear()
        for callback in batch:
            try:
                callback()
            except Exception:  # as asyncio does for a failing callback: log it, go on
                _LOG.exception("A Streamlit event-loop callback failed")
        with self.lock:
            if self.queue:
                return True
            self.scheduled = False
            return False


def call_soon_batched(loop: Any, batch: CallbackBatch, callback: Callable[[], None]) -> None:
    """Queue ``callback`` for ``loop``, waking the loop only if no drain is pending."""
    if batch.add(callback):
        try:
            loop.call_soon_threadsafe(_drain_on, loop, batch)
        except RuntimeError:
            batch.cancel()
            raise


def _drain_on(loop: Any, batch: CallbackBatch) -> None:
    """One batch, then the loop's other ready work, then the next batch (no wake-up needed)."""
    if batch.drain():
        loop.call_soon(_drain_on, loop, batch)


def install() -> bool:
    """Patch ``AppSession._call_soon_on_event_loop`` once; False if Streamlit has no such method."""
    from streamlit.runtime.app_session import AppSession

    original = getattr(AppSession, "_call_soon_on_event_loop", None)
    if original is None:
        return False
    if getattr(original, _MARK, False):
        return True

    def batched(self: Any, callback: Callable[[], None]) -> None:
        batch = self.__dict__.get("_trainer_batch")
        if batch is None:
            batch = self.__dict__.setdefault("_trainer_batch", CallbackBatch())
        try:
            call_soon_batched(self._event_loop, batch, callback)
        except RuntimeError:
            if not self._event_loop.is_closed():
                raise
            _LOG.debug("Dropped event-loop callback", exc_info=True)

    setattr(batched, _MARK, True)
    AppSession._call_soon_on_event_loop = batched  # type: ignore[method-assign]
    return True
