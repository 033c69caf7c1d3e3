"""A newcomer's path in Chromium: make a profile, finish a 10-question mixed session, see progress."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser import AppServer, screenshot, wait_idle
from trainer.atlas import load_atlas
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QUESTION_TYPES
from trainer.settings import quiz_dir

pytestmark = pytest.mark.browser


def mixed_questions(n: int = 10) -> list[str]:
    """One of each type first, then more locate questions, so every type is exercised."""
    if n < len(QUESTION_TYPES):
        raise ValueError(f"a mixed session needs at least {len(QUESTION_TYPES)} questions, one per type")
    atlas = load_atlas()
    qs = load_questions(atlas, [quiz_dir()])
    picked: list[str] = []
    for t in QUESTION_TYPES:
        picked += [q.id for q in qs if q.type == t][:1]
    picked += [q.id for q in qs if q.type == "locate" and q.id not in picked][: n - len(picked)]
    return picked


def in_shadow(page: Any, selector: str) -> int:
    return int(
        page.evaluate(
            "(sel) => { let n = 0; document.querySelectorAll('*').forEach(e => { if (e.shadowRoot) n += e.shadowRoot.querySelectorAll(sel).length; }); return n; }",
            selector,
        )
    )


SUBMIT_ENABLED_JS = "() => [...document.querySelectorAll('button')].some(b => b.innerText.includes('Submit answer') && !b.disabled)"


def submit_enabled(page: Any) -> bool:
    return bool(page.evaluate(SUBMIT_ENABLED_JS))


# The question's input is ready: the pin board is live, or its options are drawn. On a loaded
# machine the pin board can go live a few seconds after the page is idle; checking it only once
# skipped the pins and left Submit disabled.
INPUT_READY_JS = (
    "() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && e.shadowRoot.querySelector('.pb-wrap.pb-active'))"
    " || document.querySelectorAll('input[type=radio], [data-testid=\"stCheckbox\"] input').length > 0"
)


# The label of the radio group a case with several pin steps shows above its image.
PIN_STEP_PICKER = "Your taps place the pins of"


def pin_count(option: Any) -> tuple[int, int]:
    """(placed, wanted) from a pin-step option's label, e.g. 'Step 6 (1/3 pins)'."""
    text = str(option.evaluate("e => (e.closest('label') || e.parentElement).innerText"))
    found = re.search(r"\((\d+)/(\d+) pins?\)", text)
    if not found:
        raise AssertionError(f"no pin count in the pin-step option {text!r}")
    return int(found.group(1)), int(found.group(2))


def tap_image(page: Any, k: int) -> None:
    """Tap the body image at the k-th of a diagonal row of points (distinct, inside the view)."""
    img = page.locator('img[alt="Body view"]')
    img.scroll_into_view_if_needed()
    box = img.bounding_box()
    page.mouse.click(box["x"] + box["width"] * (0.45 + 0.05 * k), box["y"] + box["height"] * (0.5 + 0.04 * k))
    page.wait_for_timeout(350)


def centre(control: Any) -> None:
    """Scroll a control to the middle of the window before clicking it: scrolled only "into
    view", it can stop under Streamlit's fixed toolbar, which then takes the click (seen on a
    case after another case, where an option ended at y = 0)."""
    control.evaluate("e => e.scrollIntoView({block: 'center'})")


def answer_current(page: Any) -> None:
    """Answer every part of the current question, then submit.

    A case can show all its steps at once: several option groups, several "select all" groups
    and pin steps on one image. So every option group gets its first option, every checkbox is
    ticked, and pins are placed (at least three, since a trace needs two) until Submit is enabled.
    Before this, only the first option group and the first checkbox were answered, and such a
    case, drawn as the first question of a random session, left Submit disabled.
    """
    wait_idle(page)
    page.wait_for_function(INPUT_READY_JS, timeout=20000)
    page.wait_for_timeout(500)
    groups = page.get_by_role("radiogroup")
    for g in range(groups.count()):
        if groups.nth(g).get_attribute("aria-label") == PIN_STEP_PICKER:
            continue
        first = groups.nth(g).get_by_role("radio").first
        if first.is_visible():
            centre(first)
            first.check(force=True)
            page.wait_for_timeout(300)
    checkboxes = page.locator('[data-testid="stCheckbox"] input')
    for c in range(checkboxes.count()):
        centre(checkboxes.nth(c))
        checkboxes.nth(c).check(force=True)
        page.wait_for_timeout(200)
    img = page.locator('img[alt="Body view"]')
    if img.count() and in_shadow(page, ".pb-wrap.pb-active"):
        steps = page.get_by_role("radiogroup", name=PIN_STEP_PICKER)
        if steps.count():
            # A case with several pin steps: pick each step in turn and fill its pins.
            options = steps.first.get_by_role("radio")
            for s in range(options.count()):
                centre(options.nth(s))
                options.nth(s).check(force=True)
                wait_idle(page)
                for k in range(8):
                    placed, wanted = pin_count(options.nth(s))
                    if placed >= wanted:
                        break
                    tap_image(page, k)
        else:
            # At least three pins (a trace needs two), and more until Submit is enabled: a
            # multi-site question needs one pin per target (one in the bank has four).
            for k in range(8):
                tap_image(page, k)
                if k >= 2 and submit_enabled(page):
                    break
    submit = page.get_by_role("button", name="Submit answer")
    page.wait_for_function(SUBMIT_ENABLED_JS, timeout=15000)
    submit.click()
    # The answer is stored once the page offers what comes next (a case's history is an alert
    # too, so an alert on the page does not mean the answer was scored).
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')]"
        ".some(b => ['Next question', 'See summary'].includes(b.innerText.trim()))",
        timeout=20000,
    )


# The summary's error chart: where its legend and its x-axis title are drawn on the screen.
CHART_BOXES_JS = (
    "() => { const gd = [...document.querySelectorAll('.js-plotly-plot')].pop();"
    " const l = gd.querySelector('.legend').getBoundingClientRect();"
    " const x = gd.querySelector('.g-xtitle').getBoundingClientRect();"
    " return {legend_top: l.top, xtitle_bottom: x.bottom}; }"
)


def test_ten_question_session_with_a_profile_updates_progress(app_server: AppServer, chromium: Any) -> None:
    ctx = chromium.new_context(viewport={"width": 1200, "height": 1200})
    page = ctx.new_page()
    page.goto(app_server.url + "/practice")
    wait_idle(page)
    page.get_by_role("button", name="New profile").click()
    page.get_by_label("Display name").fill("Dr Test <b>")
    page.get_by_role("button", name="Create profile").click()
    wait_idle(page)

    ids = mixed_questions(10)
    assert len(ids) == 10
    page.goto(app_server.url + "/practice?questions=" + ",".join(ids))
    wait_idle(page)
    for k in range(10):
        page.get_by_text(f"Question {k + 1} of 10").wait_for(timeout=20000)
        answer_current(page)
        if k == 0:
            screenshot(page, "session_first_feedback")
        label = "See summary" if k == 9 else "Next question"
        page.get_by_role("button", name=label).click()
        wait_idle(page)
    page.get_by_text("Session summary").wait_for(timeout=20000)
    # The error chart's legend sits below its x-axis title, not on it (plotly's default place for a
    # horizontal legend is where that title is drawn; they overlapped on every screen width).
    page.wait_for_selector(".js-plotly-plot .legend .traces", timeout=20000)
    boxes = page.evaluate(CHART_BOXES_JS)
    assert boxes["legend_top"] >= boxes["xtitle_bottom"], boxes
    screenshot(page, "session_summary")

    page.goto(app_server.url + "/progress")
    wait_idle(page)
    page.locator('[data-testid="stMetricLabel"]', has_text="Answers").first.wait_for(timeout=20000)
    metric = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    assert int(metric) == 10
    assert page.get_by_text(re.compile("Review queue|Nothing is due")).count() >= 1
    # The profile name is shown as text, never as HTML.
    assert page.locator("b", has_text="Dr Test").count() == 0
    screenshot(page, "progress_after_session")
    ctx.close()
