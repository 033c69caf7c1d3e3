"""What a phone waits on during a class (trainer/live/class_signal.py) and the HTTP route that
serves it (trainer/ui/http_routes.py): the view changes exactly when the phone must redraw, the
stamp also when its countdown must change, the database is read once per refresh period whatever
the number of phones waiting, and the route answers a real ``streamlit run`` over HTTP."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trainer.live import service as live
from trainer.live.class_signal import (
    MAX_SPREAD_S,
    SignalBoard,
    class_signal,
    spread_ms,
    wait_for_change,
)
from trainer.store import Store, open_store
from trainer.store.records import LiveSession


@pytest.fixture()
def classroom(tmp_path: Path) -> tuple[Store, LiveSession, Any]:
    from tests.test_live_support import make_class, write_content

    env = write_content(tmp_path)
    store = open_store(data_dir=tmp_path / "data")
    session = make_class(store, env, ["live_one", "live_two"], time_limit_s=60)
    return store, session, env


class FakeTime:
    """A monotonic clock the test moves (the board's refresh period is in it)."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def counting_reader(store: Store, calls: list[str]) -> Callable[[str], tuple[LiveSession, int]]:
    def read(session_id: str) -> tuple[LiveSession, int]:
        calls.append(session_id)
        session, _answers, n = store.poll_session(session_id)
        return session, n

    return read


def test_the_view_changes_with_phase_and_question_and_the_stamp_with_the_clock(
    classroom: tuple[Store, LiveSession, Any],
) -> None:
    store, session, _ = classroom
    t0 = datetime.now(UTC)
    lobby = class_signal(store.get_session(session.id), t0)
    opened = class_signal(live.open_next(store, session.id, t0), t0)
    assert lobby.view != opened.view and opened.view.endswith(":open:0")
    assert opened.closes_ms is not None and 59 <= opened.left_s <= 60
    paused = class_signal(
        live.pause_clock(store, session.id, t0 + timedelta(seconds=5)), t0 + timedelta(seconds=6)
    )
    assert paused.view == opened.view and paused.stamp != opened.stamp and paused.paused
    resumed = live.resume_clock(store, session.id, t0 + timedelta(seconds=8))
    more = class_signal(
        live.add_time(store, session.id, t0 + timedelta(seconds=9)), t0 + timedelta(seconds=9)
    )
    assert more.view == opened.view and more.closes_ms != class_signal(resumed, t0).closes_ms
    # Time up: the view reads closed at once, before the host's page writes it.
    late = class_signal(store.get_session(session.id), t0 + timedelta(seconds=200))
    assert late.view.endswith(":closed:0") and late.closes_ms is None


def test_the_spread_grows_with_the_class_and_is_capped() -> None:
    assert spread_ms(0) == 0 < spread_ms(10) < spread_ms(100) < spread_ms(400)
    assert spread_ms(1000) == spread_ms(5000) == int(MAX_SPREAD_S * 1000)


def test_the_board_reads_a_class_once_per_refresh_period(classroom: tuple[Store, LiveSession, Any]) -> None:
    store, session, _ = classroom
    calls: list[str] = []
    clock = FakeTime()
    board = SignalBoard(lambda c: store.get_session_by_code(c).id, counting_reader(store, calls), clock)
    assert board.fresh(session.join_code) is None
    first = board.refresh(session.join_code)
    for _ in range(50):  # fifty phones asking within the period: no more reads
        assert board.fresh(session.join_code) is first
    clock.t += 1.0
    assert board.fresh(session.join_code) is None
    board.refresh(session.join_code)
    assert calls == [session.id, session.id]
    unknown = board.refresh("ZZZZZZ")
    assert unknown.clock is None


def run_wait(
    board: SignalBoard, code: str, since: str, on_sleep: Callable[[], None], clock: FakeTime
) -> tuple[Any, int]:
    """``wait_for_change`` with a sleep that moves the fake clock (and lets the test act)."""
    sleeps = [0]

    async def sleep(s: float) -> None:
        sleeps[0] += 1
        clock.t += s
        on_sleep()

    async def blocking(fn: Callable[[], Any]) -> Any:
        return fn()

    out = asyncio.run(wait_for_change(board, code, since, lambda: datetime.now(UTC), blocking, sleep))
    return out, sleeps[0]


def test_a_waiting_phone_is_answered_when_the_host_moves_on_and_not_before(
    classroom: tuple[Store, LiveSession, Any],
) -> None:
    store, session, _ = classroom
    clock = FakeTime()
    board = SignalBoard(lambda c: store.get_session_by_code(c).id, counting_reader(store, []), clock)
    now = datetime.now(UTC)
    lobby = class_signal(store.get_session(session.id), now)
    # Nothing changes: held for the whole hold period, then answered with the same stamp.
    same, n_sleeps = run_wait(board, session.join_code, lobby.stamp, lambda: None, clock)
    assert same is not None and same.stamp == lobby.stamp and n_sleeps >= 40
    # The host opens the question while the phone waits: answered with the new view.
    state = {"n": 0}

    def host_acts() -> None:
        state["n"] += 1
        if state["n"] == 3:
            live.open_next(store, session.id, datetime.now(UTC))

    moved, n_sleeps = run_wait(board, session.join_code, lobby.stamp, host_acts, clock)
    assert moved is not None and moved.view.endswith(":open:0") and 3 <= n_sleeps <= 5
    # A phone that already has the latest stamp but an old view is answered at once.
    assert run_wait(board, session.join_code, "stale", lambda: None, clock)[1] == 0
    assert run_wait(board, "ZZZZZZ", "", lambda: None, clock)[0] is None


def test_the_route_answers_a_running_app_over_http(tmp_path: Path) -> None:
    from tests.browser import start_app
    from tests.test_live_support import make_class, write_content

    env = write_content(tmp_path)
    server = start_app(tmp_path, env)
    try:
        store = open_store(data_dir=tmp_path / "data")
        session = make_class(store, env, ["live_one"], time_limit_s=60)
        live.join(store, session.join_code, "Ana", datetime.now(UTC))
        url = f"{server.url}/api/class/{session.join_code.lower()}"
        with urllib.request.urlopen(f"{url}?since=", timeout=30) as r:
            first = json.loads(r.read())
            assert r.headers["Cache-Control"] == "no-store"
        assert first["view"].endswith(":lobby:-1") and first["closes_ms"] is None
        assert set(first) == {"view", "stamp", "spread_ms", "closes_ms", "paused", "left_s", "server_now_ms"}
        live.open_next(store, session.id, datetime.now(UTC))
        with urllib.request.urlopen(f"{url}?since={first['stamp']}", timeout=30) as r:
            opened = json.loads(r.read())
        assert opened["view"].endswith(":open:0") and opened["closes_ms"] > opened["server_now_ms"]
        for bad in ("ZZZZZZ", "..%2F..%2Fetc", "x" * 300):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(f"{server.url}/api/class/{bad}", timeout=30)
            assert err.value.code in (400, 404)  # Streamlit refuses a traversal before the route
            assert "Traceback" not in err.value.read().decode()
    finally:
        server.stop()
