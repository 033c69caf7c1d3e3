"""A phone in Chromium when the host closes and reveals a question: only the answer fragment is
redrawn (no whole-page run), and the phone still shows "Time is up" and then the reveal. A new
question still redraws the whole page. Read from the websocket: Streamlit starts every run with a
``new_session`` message, tagged with the fragment ids of a fragment run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser import need_browser, start_app, wait_idle
from tests.test_live_support import (
    PHONE,
    capture_frames,
    make_class,
    new_context,
    wait_for_image,
    write_content,
)
from trainer.live import service as live
from trainer.store import open_store
from trainer.tools.st_client import protos

pytestmark = pytest.mark.browser


def runs(frames: list[bytes]) -> list[tuple[str, ...]]:
    """Every script run the server started for this page: () for a whole-page run, else the
    ids of the fragments it ran."""
    _, forward, _ = protos()
    out: list[tuple[str, ...]] = []
    for raw in frames:
        msg = forward()
        try:
            msg.ParseFromString(raw)
        except Exception:  # a text frame or a partial message: not a run
            continue
        if msg.WhichOneof("type") == "new_session":
            out.append(tuple(msg.metadata.run.fragment_ids) if msg.HasField("metadata") else ())
    return out


def test_close_and_reveal_redraw_only_the_answer_fragment(tmp_path: Path, chromium: Any) -> None:
    need_browser()
    env = write_content(tmp_path)
    server = start_app(tmp_path, env)
    store = open_store(data_dir=tmp_path / "data")
    try:
        session = make_class(store, env, ["live_one", "live_two"], time_limit_s=300)
        player = live.join(store, session.join_code, "Ana", datetime.now(UTC))[1]
        live.open_next(store, session.id, datetime.now(UTC))
        page = new_context(chromium, env, PHONE).new_page()
        frames = capture_frames(page)
        page.goto(f"{server.url}/join?token={player.token}")
        wait_for_image(page)
        page.get_by_role("button", name="Submit", exact=True).wait_for(timeout=20000)
        wait_idle(page)

        start = len(frames)
        live.close_now(store, session.id, datetime.now(UTC))
        page.get_by_text("Time is up").wait_for(timeout=20000)
        assert page.get_by_role("button", name="Submit", exact=True).count() == 0
        live.reveal_answer(store, session.id, datetime.now(UTC))
        page.get_by_text("You did not answer this one.").wait_for(timeout=20000)
        page.get_by_text("Your rank").wait_for(timeout=20000)
        wait_idle(page)
        during = runs(frames[start:])
        assert during, "no run reached the phone"
        assert () not in during, f"a whole-page run on close or reveal: {during}"
        assert "Question 1 of 2" in page.evaluate("() => document.body.innerText")

        # The next question is a new page: that one is a whole-page run.
        start = len(frames)
        live.open_next(store, session.id, datetime.now(UTC))
        page.get_by_text("Question 2 of 2").wait_for(timeout=20000)
        wait_idle(page)
        assert () in runs(frames[start:])
        page.context.close()
    finally:
        server.stop()
