"""A whole live class in Chromium: the host on a laptop, three players on phones (one reloads
mid-game), two questions, the heatmap for the host only, no answer leak before the reveal,
and a CSV export holding every answer."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser import need_browser, screenshot, start_app, wait_idle
from tests.test_live_support import (
    LAPTOP,
    PHONE,
    capture_frames,
    host_login,
    join_in_browser,
    new_context,
    page_text,
    site_px,
    submit,
    tap,
    wait_for_image,
    write_content,
)
from trainer.store import open_store

pytestmark = pytest.mark.browser

PLOTLY = '[data-testid="stPlotlyChart"]'


def target_leaks(blob: bytes, x: float, y: float) -> list[str]:
    """Ways the answer could reach a player: the target id, sidecar fields, or its pixel pair."""
    found = [tok for tok in ("site_a", "target_px", "points_px", "anchors_cm", "nerve_a") if tok.encode() in blob]
    pair = re.compile(rf"{x:g}(\.0+)?\s*,\s*{y:g}(\.0+)?".encode())
    if pair.search(blob):
        found.append(f"{x:g},{y:g}")
    return found


def test_a_whole_class_in_chromium(tmp_path: Path, chromium: Any) -> None:
    need_browser()
    env = write_content(tmp_path)
    server = start_app(tmp_path, env)
    root = Path(env["TRAINER_ATLAS_DIR"])
    x, y = site_px(root)

    try:
        # -- host creates the class through the setup form
        hctx = new_context(chromium, env, LAPTOP)
        host = hctx.new_page()
        host_login(host, f"{server.url}/host")
        host.get_by_label("Seconds per question").fill("120")  # the host closes each question early
        host.get_by_role("button", name="Create class").click()
        host.get_by_text("Scan to join").wait_for(timeout=20000)
        wait_idle(host)
        sid = str(host.evaluate("() => new URLSearchParams(location.search).get('session')"))
        store = open_store(data_dir=tmp_path / "data")
        session = store.get_session(sid)
        assert len(session.question_ids) == 2
        screenshot(host, "live_host_lobby")
        # Reloading the projector tab keeps the host in (a grant in the tab's sessionStorage,
        # never in the URL); a fresh tab on the same URL still has to type the key.
        assert "grant" not in host.url
        host.reload()
        host.get_by_text("Scan to join").wait_for(timeout=20000)
        assert host.get_by_label("Host key").count() == 0
        other = new_context(chromium, env, LAPTOP).new_page()
        other.goto(host.url)
        other.get_by_label("Host key").wait_for(timeout=20000)
        assert other.get_by_text("Scan to join").count() == 0
        other.context.close()

        # -- three phones join; one nickname is hostile markup
        names = ["Ana", "<i>Bo</i>", "Cy 🦴"]
        players: list[dict[str, Any]] = []
        for name in names:
            ctx = new_context(chromium, env, PHONE)
            page = ctx.new_page()
            frames = capture_frames(page)
            token = join_in_browser(page, server.url, session.join_code, name)
            players.append({"name": name, "ctx": ctx, "page": page, "frames": frames, "token": token})
        screenshot(players[1]["page"], "live_phone_waiting")
        host.get_by_text("Cy 🦴").wait_for(timeout=10000)  # the lobby fragment polls every 2 s
        assert host.get_by_text("<i>Bo</i>", exact=False).count() >= 1  # shown literally
        assert host.locator("i", has_text="Bo").count() == 0

        for qnum in (1, 2):
            host.get_by_role("button", name="Start the first question" if qnum == 1 else "Next question").click()
            host.get_by_text("Time left").wait_for(timeout=20000)
            for p in players:
                wait_for_image(p["page"])
            # Before anyone answers: no player page holds the target, nobody but the host has a chart.
            for p in players:
                assert p["page"].locator(PLOTLY).count() == 0
                assert target_leaks(page_text(p["page"]).encode(), x, y) == [], p["name"]
            if qnum == 1:
                screenshot(players[0]["page"], "live_phone_question")

            # Ana on target; Bo 2 cm distal; Cy reloads first (same player after the reload).
            tap(players[0]["page"], x, y)
            submit(players[0]["page"])
            tap(players[1]["page"], x, y + 20)
            submit(players[1]["page"])
            cy = players[2]["page"]
            if qnum == 1:
                cy.reload()
                wait_idle(cy)
                wait_for_image(cy)
                assert cy.get_by_text("Cy 🦴 · class").count() == 1
                assert str(cy.evaluate("() => new URLSearchParams(location.search).get('token')")) == players[2]["token"]
            tap(cy, x + 3, y + 22)
            submit(cy)
            if qnum == 1:
                screenshot(cy, "live_phone_answer_received")
                # A reload after answering still says "received" and offers no second submit.
                cy.reload()
                cy.get_by_text("Answer received").wait_for(timeout=20000)
                assert cy.get_by_role("button", name="Submit", exact=True).count() == 0

            # The host's heatmap shows the pins; the players still have no target, no chart.
            host.get_by_text("3 / 3").wait_for(timeout=10000)
            host.get_by_text("3 answers").wait_for(timeout=10000)
            assert host.locator(PLOTLY).count() >= 1  # a fragment re-run may briefly hold a stale copy
            if qnum == 1:
                screenshot(host, "live_host_heatmap")
            for p in players[1:]:
                assert p["page"].locator(PLOTLY).count() == 0
                leaks = target_leaks(page_text(p["page"]).encode() + b"".join(p["frames"]), x, y)
                assert leaks == [], (p["name"], leaks)

            host.get_by_role("button", name="Close now").click()
            host.get_by_role("button", name="Reveal the answer").click()
            host.get_by_text("Mean error").wait_for(timeout=20000)
            assert host.get_by_text(re.compile(r"went 2\.\d cm too distal")).count() == 1
            if qnum == 1:
                screenshot(host, "live_host_reveal")
            for p in players:
                p["page"].get_by_text("Your rank").wait_for(timeout=20000)
            assert players[0]["page"].get_by_text("1 of 3", exact=True).count() == 1
            if qnum == 1:
                screenshot(players[1]["page"], "live_phone_reveal")
                players[1]["page"].get_by_text("2.0 cm").first.wait_for()

        host.get_by_role("button", name="Finish the class").click()
        host.get_by_text("Final results").wait_for(timeout=20000)
        with host.expect_download() as dl:
            host.get_by_role("button", name="Download every answer (CSV)").click()
        rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
        assert len(rows) == 6
        assert {r["nickname"] for r in rows} == set(names)
        assert sorted(r["question_number"] for r in rows) == ["1", "1", "1", "2", "2", "2"]
        screenshot(host, "live_host_final")
        players[0]["page"].get_by_text("Class finished").wait_for(timeout=20000)
        screenshot(players[0]["page"], "live_phone_final")
        assert store.count_answers(sid, 0) == 3 and store.count_answers(sid, 1) == 3
        # The phone can take the class home: the same questions start in Practice.
        ana = players[0]["page"]
        ana.get_by_text("Practise these questions again").click()
        ana.get_by_text("Question 1 of 2").wait_for(timeout=20000)
        assert f"questions={','.join(session.question_ids)}".replace(",", "%2C") in ana.url or \
            f"questions={','.join(session.question_ids)}" in ana.url
        for p in players:
            p["ctx"].close()
        hctx.close()
    except Exception:
        for i, p in enumerate(locals().get("players", [])):
            screenshot(p["page"], f"live_failed_player_{i}")
        if "host" in locals():
            screenshot(host, "live_failed_host")
        raise
    finally:
        server.stop()
