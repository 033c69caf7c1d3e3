"""Practice choice questions in a real Chromium: the options are shown shuffled, nothing says
which one is right before Submit, the right option scores wherever it is shown, and the reveal
lists the options in the order the learner saw them with the right one marked."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser import AppServer, screenshot, wait_idle
from trainer.atlas import load_atlas
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QuestionModel
from trainer.settings import quiz_dir

pytestmark = pytest.mark.browser

OPTIONS = '[data-testid="stRadio"] [role="radiogroup"] label'


def clinical_question() -> QuestionModel:
    """A shipped single-answer clinical question with at least 3 options, one with a 'why'."""
    for q in load_questions(load_atlas(), [quiz_dir()]):
        if (
            q.type == "clinical"
            and not q.multi_answer
            and len(q.choices) >= 3
            and any(c.why for c in q.choices)
        ):
            return q
    pytest.fail("the banks have no single-answer clinical question with a 'why'")


def attempt(chromium: Any, url: str) -> tuple[Any, Any, list[bytes], list[str]]:
    ctx = chromium.new_context(viewport={"width": 1100, "height": 1300})
    page = ctx.new_page()
    frames: list[bytes] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda p: frames.append(p if isinstance(p, bytes) else p.encode())),
    )
    page.goto(url)
    wait_idle(page)
    page.locator(OPTIONS).first.wait_for(timeout=20000)
    return ctx, page, frames, [t.strip() for t in page.locator(OPTIONS).all_inner_texts()]


def test_practice_shows_options_shuffled_and_scores_the_option(app_server: AppServer, chromium: Any) -> None:
    q = clinical_question()
    texts = [c.text for c in q.choices]
    right = next(c.text for c in q.choices if c.correct)
    secrets = [c.why for c in q.choices if c.why] + [q.explanation, "right answer"]
    orders = []
    for _ in range(4):  # four attempts: a fresh order each time (all equal: odds (1/6)^3 or less)
        ctx, page, frames, shown = attempt(chromium, f"{app_server.url}/practice?questions={q.id}")
        assert sorted(shown) == sorted(texts)
        orders.append(tuple(shown))
        ctx.close()
    assert len(set(orders)) > 1, orders

    ctx, page, frames, shown = attempt(chromium, f"{app_server.url}/practice?questions={q.id}")
    blob = page.content().encode() + b"".join(frames)
    assert [s for s in secrets if s.encode() in blob] == []  # nothing says which one is right
    page.locator(OPTIONS).filter(has_text=re.compile(rf"^\s*{re.escape(right)}\s*$")).click()
    wait_idle(page)
    page.get_by_role("button", name="Submit answer").click()
    page.locator('[data-testid="stAlert"]').first.wait_for(timeout=20000)
    assert page.locator('[data-testid="stAlert"]').first.inner_text().startswith("100%")
    lines = [
        t
        for t in page.locator('[data-testid="stMarkdownContainer"]').all_inner_texts()
        if re.match(r"^[✓✗·] \d+\. ", t.strip())
    ]
    assert [re.sub(r"^[✓✗·] \d+\. ", "", t.strip()).split(" — ")[0] for t in lines] == shown
    marked = [t for t in lines if "right answer" in t]
    assert len(marked) == 1 and right in marked[0] and "your answer" in marked[0]
    screenshot(page, "practice_choice_reveal")
    ctx.close()
