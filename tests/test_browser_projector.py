"""A class run the issue-17 way in Chromium: the projector view in one tab, the host controls in
another, three phones. Pause (phones say so), add time, remove a player (gone from the projector),
a choice question revealed with a bar chart, the class finished, history re-run. Screenshots of
the projector at 1366×768 and 1920×1080 go to test-artifacts/ (copied to docs/screenshots/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser import need_browser, screenshot, start_app, wait_idle
from tests.quiz_factory import q, write_bank
from tests.test_live_support import HOST_KEY, LAPTOP, PHONE, join_in_browser, new_context, write_content
from trainer.store import open_store

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1366, "height": 768}
BIG = {"width": 1920, "height": 1080}


def _bank(tmp: Path) -> None:
    """A choice question first (bar chart at the reveal), then a pin question."""
    write_bank(
        tmp / "quizzes",
        {
            "schema_version": 1,
            "bank": {"id": "room", "title": "Room"},
            "questions": [
                q(
                    "room_choice",
                    "clinical",
                    prompt="Which fluid do you dilute in?",
                    choices=[{"text": "5% dextrose", "correct": True}, {"text": "Saline 0.9%"}],
                ),
                q(
                    "room_pin",
                    "locate",
                    view="view_a",
                    targets=["site_a"],
                    prompt="Where does nerve A pierce?",
                ),
            ],
        },
    )


def _press(page: Any, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    wait_idle(page)


def test_projector_host_controls_and_three_phones(tmp_path: Path, chromium: Any) -> None:
    need_browser()
    env = write_content(tmp_path)
    _bank(tmp_path)
    server = start_app(tmp_path, env)
    try:
        host = new_context(chromium, env, LAPTOP).new_page()
        host.goto(f"{server.url}/host")
        wait_idle(host)
        host.get_by_label("Host key").fill(HOST_KEY)
        host.get_by_role("button", name="Open host controls").click()
        wait_idle(host)
        host.get_by_label("Seconds per question").fill("120")
        host.get_by_label("Number of questions (from banks/filters)").fill("2")
        host.get_by_role("button", name="Create class").click()
        host.get_by_text("Scan to join").wait_for(timeout=20000)
        sid = str(host.evaluate("() => new URLSearchParams(location.search).get('session')"))
        session = open_store(data_dir=tmp_path / "data").get_session(sid)

        proj_ctx = new_context(chromium, env, PROJECTOR)
        proj = proj_ctx.new_page()
        proj.goto(f"{server.url}/projector?session={sid}")
        wait_idle(proj)
        proj.get_by_label("Host key").fill(HOST_KEY)
        proj.get_by_role("button", name="Open the projector").click()
        proj.get_by_text(session.join_code).first.wait_for(timeout=20000)
        assert proj.locator('[data-testid="stSidebar"]').evaluate_all(
            "els => els.every(e => getComputedStyle(e).display === 'none')"
        )

        phones = {}
        for name in ("Ana", "Bo", "Cy"):
            page = new_context(chromium, env, PHONE).new_page()
            join_in_browser(page, server.url, session.join_code, name)
            phones[name] = page
        proj.get_by_text("3 joined").wait_for(timeout=10000)
        screenshot(proj, "live_projector_lobby")

        _press(host, "Start the first question")
        proj.get_by_text("Which fluid do you dilute in?").wait_for(timeout=10000)
        ana = phones["Ana"]
        ana.get_by_text("s left").first.wait_for(timeout=10000)  # the ticking countdown
        first = ana.locator("text=/\\d+ s left/").first.inner_text()
        ana.wait_for_timeout(2200)
        assert ana.locator("text=/\\d+ s left/").first.inner_text() != first  # it ticks on the phone

        _press(host, "Pause the clock")
        ana.get_by_text("Paused by the host").wait_for(timeout=10000)
        proj.get_by_text("paused").first.wait_for(timeout=10000)
        _press(host, "Resume the clock")
        _press(host, "Add 30 s")

        host.get_by_text("Players (3): rename or remove").click()
        wait_idle(host)
        box = host.locator('[data-testid="stSelectbox"]').filter(has_text="Player")
        box.locator("input").click()
        host.keyboard.type("Cy")
        host.keyboard.press("Enter")
        wait_idle(host)
        _press(host, "Remove")
        host.get_by_text("Removed").wait_for(timeout=10000)

        for name, text in (("Ana", "5% dextrose"), ("Bo", "Saline 0.9%")):
            page = phones[name]
            page.locator('[data-testid="stRadio"] label').filter(has_text=text).click()
            wait_idle(page)
            page.get_by_role("button", name="Submit", exact=True).click()
            page.get_by_text("Answer received").wait_for(timeout=20000)
        proj.get_by_text("2 / 2 answered").wait_for(timeout=10000)
        screenshot(proj, "live_projector_question")

        _press(host, "Close now")
        _press(host, "Reveal the answer")
        proj.set_viewport_size(BIG)
        host.get_by_text("Leaderboard").first.wait_for(timeout=20000)
        try:
            proj.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=20000)
        except Exception:
            screenshot(proj, "live_projector_debug")
            screenshot(host, "live_host_debug")
            raise
        proj.locator(".js-plotly-plot .bars").first.wait_for(timeout=20000)
        leaderboard = proj.locator('[data-testid="stText"]').all_inner_texts()
        assert any("Ana" in t for t in leaderboard) and not any("Cy" in t for t in leaderboard)
        screenshot(proj, "live_projector_reveal")

        _press(host, "Next question")
        _press(host, "End the class now")
        proj.get_by_text("Final results").wait_for(timeout=20000)
        proj.get_by_text("Scan for your results").wait_for(timeout=20000)  # the results link's QR
        screenshot(proj, "live_projector_final")
        phones["Ana"].get_by_text("Class finished").wait_for(timeout=20000)

        _press(host, "Run it again with a new group")
        host.get_by_text("Scan to join").wait_for(timeout=20000)
        new_sid = str(host.evaluate("() => new URLSearchParams(location.search).get('session')"))
        again = open_store(data_dir=tmp_path / "data").get_session(new_sid)
        assert new_sid != sid and again.question_ids == session.question_ids
    finally:
        server.stop()
