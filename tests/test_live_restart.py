"""Kill the server mid-question, start it again on the same data folder: nothing is lost, the
host page resumes from ``?session=``, players resume from ``?token=`` and can still answer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser import need_browser, screenshot, start_app, wait_idle
from tests.test_live_support import (
    HOST_KEY,
    LAPTOP,
    PHONE,
    content,
    make_class,
    new_context,
    site_px,
    submit,
    tap,
    wait_for_image,
    write_content,
)
from trainer.live import service as live
from trainer.rules.classroom import Phase
from trainer.store import open_store

pytestmark = pytest.mark.browser


def test_a_killed_server_loses_nothing_and_the_class_resumes(tmp_path: Path, chromium: Any) -> None:
    need_browser()
    env = write_content(tmp_path)
    atlas, questions, root = content(env)
    x, y = site_px(root)
    first = start_app(tmp_path, env)
    store = open_store(data_dir=tmp_path / "data")
    try:
        session = make_class(store, env, ["live_one", "live_two"], time_limit_s=300)
        now = datetime.now(UTC)
        ps = [live.join(store, session.join_code, n, now)[1] for n in ("Ana", "Bo", "Cy")]
        live.open_next(store, session.id, now)
        # Ana answers in a real browser on the first server; Bo through the service.
        ctx = new_context(chromium, env, PHONE)
        ana = ctx.new_page()
        ana.goto(f"{first.url}/join?token={ps[0].token}")
        wait_for_image(ana)
        tap(ana, x, y)
        submit(ana)
        live.submit(store, atlas, questions, session.id, ps[1].token, [(x, y + 20)], datetime.now(UTC))
        before = store.list_answers(session.id)
    finally:
        first.kill()  # SIGKILL mid-question: no shutdown hook runs
    assert first.proc.returncode == -9

    second = start_app(tmp_path, env)
    try:
        fresh = open_store(data_dir=tmp_path / "data")
        s = fresh.get_session(session.id)
        assert (s.state, s.current_index, s.version) == (Phase.OPEN, 0, 2)
        assert [p.nickname for p in fresh.list_players(session.id)] == ["Ana", "Bo", "Cy"]
        assert fresh.list_answers(session.id) == before and len(before) == 2

        # The host resumes from the URL after typing the key again.
        hctx = new_context(chromium, env, LAPTOP)
        host = hctx.new_page()
        host.goto(f"{second.url}/host?session={session.id}")
        wait_idle(host)
        host.get_by_label("Host key").fill(HOST_KEY)
        host.get_by_role("button", name="Open host controls").click()
        host.get_by_text("2 / 3").wait_for(timeout=20000)
        assert host.get_by_role("button", name="Close now").count() == 1
        screenshot(host, "live_restart_host_resumed")

        # Ana's phone reconnects with her token: still answered. Cy can still answer.
        ana.goto(f"{second.url}/join?token={ps[0].token}")
        ana.get_by_text("Answer received").wait_for(timeout=20000)
        cy = ctx.new_page()
        cy.goto(f"{second.url}/join?token={ps[2].token}")
        wait_for_image(cy)
        tap(cy, x + 5, y)
        submit(cy)
        host.get_by_text("3 / 3").wait_for(timeout=10000)
        host.get_by_role("button", name="Close now").click()
        host.get_by_role("button", name="Reveal the answer").click()
        host.get_by_text("Mean error").wait_for(timeout=20000)
        cy.get_by_text("Your rank").wait_for(timeout=20000)
        assert fresh.count_answers(session.id, 0) == 3
        ctx.close()
        hctx.close()
        fresh.close()
    finally:
        second.stop()
        store.close()
