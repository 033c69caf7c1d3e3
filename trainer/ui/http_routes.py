"""The app's own HTTP routes, served beside Streamlit by ``st.App`` (see streamlit_app.py).

One route: ``GET <base>/api/class/<code>?since=<stamp>``, the long poll a phone in a class waits
on (:mod:`trainer.live.class_signal`). It answers JSON with the class's view and clock, 404 for
an unknown code, and never anything a player could score with. Readers go through one store
per process, opened on the first request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from trainer.errors import TrainerError
from trainer.live.class_signal import SignalBoard, SignalHub, clean_code
from trainer.store import Store, open_store
from trainer.store.records import LiveSession

_LOG = logging.getLogger("trainer.http")
#: The longest ``since`` a request may send (a view is ~50 characters).
MAX_SINCE_CHARS = 200
_NO_STORE = {"Cache-Control": "no-store"}

_lock = threading.Lock()
_hub: SignalHub | None = None


def _signal_hub() -> SignalHub:
    """The process's hub, over a store opened once (the database the settings name)."""
    global _hub
    with _lock:
        if _hub is None:
            store: Store = open_store()
            board = SignalBoard(
                lambda code: store.get_session_by_code(code).id, _clock_reader(store), time.monotonic
            )
            _hub = SignalHub(board, _now, _run_blocking)
        return _hub


def _clock_reader(store: Store) -> Callable[[str], tuple[LiveSession, int]]:
    """The class and its number of players, in the one query the host's page polls with."""

    def read(session_id: str) -> tuple[LiveSession, int]:
        session, _answers, n_players = store.poll_session(session_id)
        return session, n_players

    return read


async def _run_blocking(fn: Callable[[], Any]) -> Any:
    return await run_in_threadpool(fn)


def _now() -> datetime:
    return datetime.now(UTC)


async def class_state(request: Request) -> JSONResponse:
    """Wait (up to ``HOLD_S``) until the class's stamp differs from ``since``, then answer it."""
    code = clean_code(str(request.path_params.get("code", "")))
    if code is None:
        return JSONResponse({"error": "not a class code"}, status_code=404, headers=_NO_STORE)
    since = request.query_params.get("since", "")[:MAX_SINCE_CHARS]
    try:
        # A thread only while the store is first opened; after that the hub is at hand.
        hub = _hub if _hub is not None else await run_in_threadpool(_signal_hub)
        signal = await hub.wait(code, since)
    except TrainerError as exc:  # the database is unreachable: the phone retries later
        _LOG.warning("class state for %s failed: %s", code, exc)
        return JSONResponse({"error": "try again"}, status_code=503, headers=_NO_STORE)
    if signal is None:
        return JSONResponse({"error": "no such class"}, status_code=404, headers=_NO_STORE)
    return JSONResponse(signal.payload(), headers=_NO_STORE)


def routes(base_url_path: str = "") -> list[Route]:
    """The routes, under Streamlit's ``server.baseUrlPath`` when the app is served below one."""
    base = "/" + base_url_path.strip("/") if base_url_path.strip("/") else ""
    return [Route(f"{base}/api/class/{{code}}", class_state, methods=["GET"])]
