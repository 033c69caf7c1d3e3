"""What a phone waits on during a class (trainer/live/class_signal.py) and the HTTP route that
serves it (trainer/ui/http_routes.py): the view changes exactly when the phone must redraw, the
stamp also when its countdown must change, the database is read once per refresh period whatever
the number of phones waiting, and the route answers a real ``streamlit run`` over HTTP."""

from __future__ import annotations

import asyncio
import json
import time
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
    SignalHub,
    class_signal,
    spread_ms,
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


def make_hub(store: Store, step_s: float = 0.02) -> tuple[SignalHub, list[str]]:
    """A hub over the real store (reads counted), stepping fast so the test runs in real time."""
    calls: list[str] = []
    board = SignalBoard(
        lambda c: store.get_session_by_code(c).id, counting_reader(store, calls), time.monotonic, 0.02
    )

    async def blocking(fn: Callable[[], Any]) -> Any:
        return await asyncio.to_thread(fn)

    return SignalHub(board, lambda: datetime.now(UTC), blocking, step_s=step_s), calls


def test_waiting_phones_are_answered_when_the_host_moves_on_and_not_before(
    classroom: tuple[Store, LiveSession, Any],
) -> None:
    store, session, _ = classroom
    hub, calls = make_hub(store)
    lobby = class_signal(store.get_session(session.id), datetime.now(UTC))

    async def scenario() -> tuple[Any, list[Any], float, int]:
        # Nothing changes: held for the whole hold period, then answered with the same stamp.
        t0 = time.monotonic()
        same = await hub.wait(session.join_code, lobby.stamp, hold_s=0.3)
        held_s = time.monotonic() - t0
        # Fifty phones wait; the host opens the question: all are answered with the new view,
        # and the database was read by the class's one watch task, not once per phone.
        before = len(calls)
        phones = [asyncio.create_task(hub.wait(session.join_code, lobby.stamp, hold_s=10)) for _ in range(50)]
        await asyncio.sleep(0.2)
        await asyncio.to_thread(live.open_next, store, session.id, datetime.now(UTC))
        answers = await asyncio.wait_for(asyncio.gather(*phones), timeout=5)
        return same, answers, held_s, len(calls) - before

    same, answers, held_s, reads = asyncio.run(scenario())
    assert same is not None and same.stamp == lobby.stamp and held_s >= 0.3
    assert all(a is not None and a.view.endswith(":open:0") for a in answers)
    assert reads < 50  # about one per 0.02 s refresh while they waited, not one per phone
    # A phone with an old stamp is answered at once; an unknown code gets None.
    assert asyncio.run(hub.wait(session.join_code, "stale", hold_s=5)) is not None
    assert asyncio.run(hub.wait("ZZZZZZ", "", hold_s=5)) is None


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
