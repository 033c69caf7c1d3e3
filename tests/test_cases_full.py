"""The full worked cases of issue 16 (item 4): at least twelve, one per seed condition, each a
whole consultation from the history to the review, every choice explained, and every one
scoring full marks with the right answers on every rendered side and body type."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from trainer.atlas import load_atlas
from trainer.atlas.core import Atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.quiz.bank import DEFAULT_QUIZ_DIR, load_questions
from trainer.quiz.models import QuestionModel
from trainer.scoring.score import Answer, score

SEED_CONDITIONS = (
    "lateral_epicondylitis",
    "knee_osteoarthritis",
    "plantar_fasciitis",
    "achilles_tendinopathy",
)
ATLAS_DIR = Path(__file__).resolve().parents[1] / "atlas"


@pytest.fixture(scope="module")
def atlas() -> Atlas:
    return load_atlas(ATLAS_DIR)


@pytest.fixture(scope="module")
def full_cases(atlas: Atlas) -> list[QuestionModel]:
    return [q for q in load_questions(atlas, [DEFAULT_QUIZ_DIR]) if q.type == "case" and len(q.steps) >= 6]


def test_at_least_twelve_full_cases_with_one_per_seed_condition(full_cases: list[QuestionModel]) -> None:
    assert len(full_cases) >= 12, [q.id for q in full_cases]
    conditions = Counter(c for q in full_cases for c in q.tags.conditions)
    assert all(conditions[c] >= 1 for c in SEED_CONDITIONS), conditions
    others = [q for q in full_cases if not set(q.tags.conditions) & set(SEED_CONDITIONS)]
    assert len(others) >= 8, [q.id for q in others]


def test_each_full_case_runs_a_whole_consultation(full_cases: list[QuestionModel]) -> None:
    """6-10 steps: choices before and after, a palpation step with untender candidate points,
    a landmark-led placement and a multi-pin placement, a do-not-inject choice, and every
    choice explained."""
    for q in full_cases:
        assert 6 <= len(q.steps) <= 10, q.id
        kinds = [s.type for s in q.steps]
        assert "locate" in kinds and "multi_site" in kinds, (q.id, kinds)
        assert kinds[0] == "clinical" and kinds[-1] == "clinical", (q.id, kinds)
        palpation = [
            s
            for s in q.steps
            if s.multi_answer and any(c.item is not None and not c.correct for c in s.choices)
        ]
        assert palpation, f"{q.id}: no palpation step with a point marked not tender"
        do_not = [
            s
            for s in q.steps
            if not s.multi_answer
            and any(c.correct and (c.why or "").startswith(("Do not", "Not ", "Never")) for c in s.choices)
        ]
        assert do_not, f"{q.id}: no 'do not inject here' choice"
        for i, s in enumerate(q.steps):
            for c in s.choices:
                assert c.why, f"{q.id} step {i}: '{c.text}' has no why"


def test_the_right_option_is_not_always_in_one_place(full_cases: list[QuestionModel]) -> None:
    firsts = [
        next(i for i, c in enumerate(s.choices) if c.correct)
        for q in full_cases
        for s in q.steps
        if s.choices and not s.multi_answer
    ]
    spread = Counter(firsts)
    assert len(spread) >= 3 and max(spread.values()) <= 0.5 * len(firsts), spread


def test_right_answers_score_full_marks_on_every_view(atlas: Atlas, full_cases: list[QuestionModel]) -> None:
    """Pins on the targets and the right choices give full credit with no safety message: no
    target sits inside the radius of a structure to avoid on any side or body type."""
    for q in full_cases:
        views = [v.id for v in atlas.views.values() if q.view in (v.id, v.base_id)]
        assert views, q.id
        for view_id in views:
            for body_type in atlas.body_types:
                rv = load_rendered_view(view_id, body_type, atlas.root)
                steps = tuple(
                    Answer(choices=tuple(i for i, c in enumerate(s.choices) if c.correct))
                    if s.type in ("identify", "clinical")
                    else Answer(pins_px=tuple(tuple(rv.items[t].points_px[0]) for t in s.targets))
                    for s in q.steps
                )
                result = score(q, Answer(steps=steps), rv, atlas)
                assert result.credit == pytest.approx(1.0) and not result.safety, (
                    q.id,
                    view_id,
                    body_type,
                    [r.credit for r in result.steps],
                    result.safety,
                )
