"""A six-step case played in a real Chromium: the learner sends taps to each placing step in
turn (a landmark, a site, the vein to avoid), answers three choice steps and gets one score."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.browser import need_browser, start_app, wait_idle
from tests.quiz_factory import good_bank, six_step_case, write_bank
from tests.test_live_support import new_context
from trainer.atlas.rendered import load_rendered_view

pytestmark = pytest.mark.browser


def tap(page: Any, x_px: float, y_px: float, width_px: int) -> None:
    box = page.locator('img[alt="Body view"]').bounding_box()
    scale = box["width"] / width_px
    page.mouse.move(box["x"] + x_px * scale, box["y"] + y_px * scale)
    page.wait_for_timeout(120)
    page.mouse.click(box["x"] + x_px * scale, box["y"] + y_px * scale)


def radio(page: Any, label: str, option: str) -> None:
    group = page.locator('[data-testid="stRadio"]').filter(has_text=label)
    group.locator("label").filter(has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")).click()
    wait_idle(page)


def test_a_six_step_case_in_chromium(tmp_path: Path, chromium: Any) -> None:
    need_browser()
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    bank = good_bank()
    bank["questions"].append(six_step_case())
    write_bank(tmp_path / "quizzes", bank)
    env = {
        "TRAINER_ATLAS_DIR": str(root),
        "TRAINER_QUIZ_DIR": str(tmp_path / "quizzes"),
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",  # the repository is edited while tests run
    }
    server = start_app(tmp_path, env)
    view = load_rendered_view("view_a_right", "female", root)
    try:
        ctx = new_context(chromium, env, {"width": 1100, "height": 1400})  # serves the synthetic images
        page = ctx.new_page()
        page.goto(f"{server.url}/practice?questions=q_case6&side=right")
        wait_idle(page)
        page.wait_for_function(
            "() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && [...e.shadowRoot.querySelectorAll('img')]"
            ".some(i => i.alt === 'Body view' && i.complete && i.naturalWidth > 0))"
        )
        for step, item in ((2, "lm_a"), (3, "site_a"), (5, "vein_a")):
            radio(page, "Your taps place the pins of", f"Step {step} (0/1 pins)")
            x, y = view.items[item].points_px[0]
            tap(page, float(x), float(y), view.width_px)
            page.get_by_text(f"Step {step} (1/1 pins)").wait_for(timeout=20000)
            wait_idle(page)
        radio(page, "Which nerve?", "Nerve A")
        radio(page, "Palpate first?", "Yes")
        radio(page, "Review in two weeks?", "Yes")
        submit = page.get_by_role("button", name="Submit answer")
        page.wait_for_function(
            "() => [...document.querySelectorAll('button')].some(b => b.innerText.includes('Submit answer') && !b.disabled)",
            timeout=20000,
        )
        submit.click()
        alert = page.locator('[data-testid="stAlert"]').filter(has_text=re.compile(r"\d+% — ")).first
        alert.wait_for(timeout=20000)
        text = alert.inner_text()
        assert text.startswith("100%"), text
        assert "Step 5: 1 of 1 sites within tolerance." in text
        ctx.close()
    finally:
        server.stop()
