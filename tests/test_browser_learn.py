"""Learn in a real Chromium: a new learner opens Learn, picks the lateral elbow lesson, goes
through its steps on the body and answers its check questions, on a desktop and on a phone;
the PIT method lesson and the evidence map are reachable from Learn."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import AppServer, screenshot, wait_idle
from trainer.atlas import load_atlas
from trainer.learn.lessons import lessons_dir, load_lessons
from trainer.learn.models import LessonFile
from trainer.learn.page import check_questions, page_count
from trainer.quiz.bank import load_questions
from trainer.settings import quiz_dir

pytestmark = pytest.mark.browser


def lesson(lesson_id: str) -> LessonFile:
    return next(lf for lf in load_lessons(lessons_dir(quiz_dir())) if lf.lesson.id == lesson_id)


def click_key(page: Any, key: str) -> None:
    button = page.locator(f'.st-key-{key} button[data-testid^="stBaseButton"]').first
    button.wait_for(state="visible", timeout=60000)  # a page still running shows nothing yet
    button.click()
    wait_idle(page)


def heading(page: Any, text: str) -> None:
    page.locator("h1, h2, h3, h4").filter(has_text=text).first.wait_for(timeout=20000)


def go_through_the_elbow_lesson(page: Any, shot: str) -> None:
    elbow = lesson("lateral_elbow")
    heading(page, "Learn")
    click_key(page, "ln_open_lateral_elbow")
    heading(page, elbow.lesson.title)
    # Step 1 palpates the landmarks: they are marked on the body and said how to find.
    page.locator(".js-plotly-plot").first.wait_for(timeout=20000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')].some(p => (p.data || []).some(t => t.name === 'Landmarks'))",
        timeout=20000,
    )
    assert page.get_by_text("How to find them").count() == 1
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 2, f"the page scrolls sideways by {overflow}px"
    sites_step = next(i for i, s in enumerate(elbow.steps) if s.kind == "sites")
    for index in range(1, page_count(elbow)):
        click_key(page, "ln_next")
        if index == sites_step:  # the sites are drawn, numbered, on the body
            page.wait_for_function(
                "() => [...document.querySelectorAll('.js-plotly-plot')].some(p => (p.data || []).some(t => t.name === 'Sites'))",
                timeout=20000,
            )
            page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
            page.wait_for_timeout(600)
            screenshot(page, shot)
    assert page.locator('.st-key-ln_next button[data-testid^="stBaseButton"]').first.is_disabled()
    heading(page, "Check yourself")
    atlas = load_atlas()
    questions = {q.id: q for q in load_questions(atlas, [quiz_dir()])}
    asked = check_questions(elbow, questions)
    for q in asked:
        right = [c.text for c in q.choices if c.correct]
        box = page.locator(f".st-key-ln_q_lateral_elbow_{q.id}") if not q.multi_answer else page
        for text in right:
            target = (
                box.locator("label").filter(has_text=text).first
                if not q.multi_answer
                else page.locator('[data-testid="stCheckbox"] label').filter(has_text=text).first
            )
            target.click()
            page.wait_for_timeout(150)
        wait_idle(page)
        click_key(page, f"ln_submit_lateral_elbow_{q.id}")
    page.get_by_text(f"{len(asked)} of {len(asked)} right").first.wait_for(timeout=20000)
    assert page.get_by_text("Practise on the body").count() >= 1


def test_a_new_learner_learns_the_lateral_elbow_on_a_desktop(app_server: AppServer, chromium: Any) -> None:
    ctx = chromium.new_context(viewport={"width": 1366, "height": 800})
    page = ctx.new_page()
    page.goto(app_server.url + "/")
    page.wait_for_url(f"{app_server.url}/learn*", timeout=20000)  # the root opens Learn
    wait_idle(page)
    go_through_the_elbow_lesson(page, "learn-desktop")
    ctx.close()


def test_a_new_learner_learns_the_lateral_elbow_on_a_phone(app_server: AppServer, chromium: Any) -> None:
    ctx = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = ctx.new_page()
    page.goto(app_server.url + "/learn")
    wait_idle(page)
    go_through_the_elbow_lesson(page, "learn-phone")
    ctx.close()


def test_the_pit_method_lesson_and_the_evidence_map_are_reachable_from_learn(
    app_server: AppServer, chromium: Any
) -> None:
    ctx = chromium.new_context(viewport={"width": 1366, "height": 800})
    page = ctx.new_page()
    page.goto(app_server.url + "/learn")
    wait_idle(page)
    method = lesson("pit_method")
    click_key(page, "ln_open_pit_method")
    heading(page, method.lesson.title)
    heading(page, method.steps[0].title)
    click_key(page, "ln_to_list")
    page.get_by_role("link", name="Evidence map: what the dextrose trials found").first.click()
    wait_idle(page)
    heading(page, "Evidence map")
    page.get_by_text("controlled trials whose control arm also improved").first.wait_for(timeout=20000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=20000)
    page.wait_for_timeout(800)
    screenshot(page, "evidence-map")
    ctx.close()
