"""Scoring on known geometry: a flat skin plane where 1 cm is exactly 10 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.atlas_factory import good_atlas_data, write_atlas
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.quiz.models import QuestionModel
from trainer.scoring import Answer, credit_for_distance, score

PX_PER_CM = 10.0  # 200 px image, 20 cm extent


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, Path]:
    root = tmp_path_factory.mktemp("flat") / "atlas"
    write_atlas(root, good_atlas_data())
    return load_atlas(root), root


def view_of(flat: tuple[Atlas, Path], side: str = "right") -> RenderedView:
    return load_rendered_view(f"view_a_{side}", "female", flat[1])


def q(**kw: Any) -> QuestionModel:
    base: dict[str, Any] = {
        "id": "q1", "type": "locate", "prompt": "Place the site", "view": "view_a", "targets": ["site_a"],
        "explanation": "Because.", "references": ["ref_a"],
    }
    base.update(kw)
    return QuestionModel.model_validate(base)


def px(view: RenderedView, item: str) -> tuple[float, float]:
    x, y = view.items[item].points_px[0]
    return float(x), float(y)


def test_pin_exactly_on_the_target_scores_full_credit(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    r = score(q(), Answer(pins_px=(px(v, "site_a"),)), v, flat[0])
    assert r.credit == 1.0
    assert r.pins[0].distance_cm == pytest.approx(0.0, abs=1e-6)
    assert r.feedback.startswith("Within tolerance")


def test_pin_two_cm_proximal_gets_half_credit_and_the_direction_word(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    x, y = px(v, "site_a")
    r = score(q(), Answer(pins_px=((x, y - 2 * PX_PER_CM),)), v, flat[0])  # up the image = proximal
    assert r.pins[0].distance_cm == pytest.approx(2.0, abs=0.01)
    assert r.credit == pytest.approx(0.5, abs=0.01)
    assert r.pins[0].direction_text == "2.0 cm proximal"
    assert "proximal to the site A" in r.feedback


def test_medial_and_lateral_follow_the_side(flat: tuple[Atlas, Path]) -> None:
    # Right view seen from the front: the body's right (lateral) is on the image's left.
    right = view_of(flat, "right")
    x, y = px(right, "site_a")
    r = score(q(), Answer(pins_px=((x - 15, y),)), right, flat[0])
    assert r.pins[0].direction_text == "1.5 cm lateral"
    left = view_of(flat, "left")
    x, y = px(left, "site_a")
    r = score(q(), Answer(pins_px=((x + 15, y),)), left, flat[0])
    assert r.pins[0].direction_text == "1.5 cm lateral"


def test_pin_in_a_structure_to_avoid_scores_zero_with_a_safety_message(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    x, y = px(v, "vein_a")
    r = score(q(zero_cm=10.0), Answer(pins_px=((x, y + 1),)), v, flat[0])
    assert r.credit == 0.0
    assert r.safety and "Vein A" in r.safety[0]


def test_off_body_pin_scores_zero(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    r = score(q(), Answer(pins_px=((-100.0, -100.0),)), v, flat[0])
    assert r.credit == 0.0 and "off the body" in r.feedback


def test_locate_a_nerve_measures_to_the_course(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    x, _ = px(v, "site_a")  # the site lies on the nerve's line
    y_mid = float(np.mean(v.items["nerve_a"].points_px[:, 1]))
    r = score(q(targets=["nerve_a"]), Answer(pins_px=((x + 5, y_mid),)), v, flat[0])
    assert r.pins[0].distance_cm == pytest.approx(0.5, abs=0.01)
    assert r.credit == 1.0


def test_multi_site_matches_pins_optimally_and_penalises_extra_pins(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    nerve_top = tuple(float(c) for c in v.items["nerve_a"].points_px[0])
    site = px(v, "site_a")
    question = q(type="multi_site", targets=["site_a", "lm_b"] if False else ["site_a", "nerve_a"])
    r = score(question, Answer(pins_px=(nerve_top, site)), v, flat[0])  # order swapped on purpose
    assert r.credit == 1.0
    r2 = score(question, Answer(pins_px=(nerve_top, site, (5.0, 5.0))), v, flat[0])
    assert r2.credit == pytest.approx(2 / 3)
    r3 = score(question.model_copy(update={"extra_pins": "ignore"}), Answer(pins_px=(nerve_top, site, (5.0, 5.0))), v, flat[0])
    assert r3.credit == 1.0


def test_trace_on_the_course_scores_full_and_partial_coverage_less(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    pts = [tuple(float(c) for c in p) for p in v.items["nerve_a"].points_px]
    question = q(type="trace", targets=["nerve_a"])
    full = score(question, Answer(pins_px=tuple(pts)), v, flat[0])
    assert full.credit == pytest.approx(1.0)
    mid = ((pts[0][0] + pts[-1][0]) / 2, (pts[0][1] + pts[-1][1]) / 2)
    half = score(question, Answer(pins_px=(pts[0], mid)), v, flat[0])
    assert 0.2 < half.credit < 0.8
    assert half.details["coverage"] == pytest.approx(0.5, abs=0.02)


def test_territory_tap_inside_and_outside(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    poly = v.items["terr_a"].points_px
    centroid = tuple(float(c) for c in poly.mean(axis=0))
    question = q(type="territory", mode="tap", targets=["terr_a"])
    assert score(question, Answer(pins_px=(centroid,)), v, flat[0]).credit == 1.0
    far = score(question, Answer(pins_px=((centroid[0], centroid[1] - 80),)), v, flat[0])
    assert far.credit < 1.0 and "Outside" in far.feedback


def test_clinical_single_and_multi_answer() -> None:
    choices = [{"text": "a", "correct": True}, {"text": "b"}, {"text": "c", "correct": True}]
    single = q(type="clinical", view=None, targets=[], choices=[{"text": "a", "correct": True}, {"text": "b"}])
    atlas_stub: Any = None
    assert score(single, Answer(choices=(0,)), None, atlas_stub).credit == 1.0
    assert score(single, Answer(choices=(1,)), None, atlas_stub).credit == 0.0
    multi = q(type="clinical", view=None, targets=[], choices=choices, multi_answer=True)
    assert score(multi, Answer(choices=(0, 2)), None, atlas_stub).credit == 1.0
    assert score(multi, Answer(choices=(0,)), None, atlas_stub).credit == 0.5
    assert score(multi, Answer(choices=(0, 1)), None, atlas_stub).credit == 0.0


def test_case_combines_its_steps(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    question = q(
        type="case", targets=[], vignette="A runner with heel pain.",
        steps=[
            {"type": "identify", "prompt": "Which nerve?", "choices": [{"text": "Nerve A", "correct": True, "item": "nerve_a"}, {"text": "Other"}]},
            {"type": "locate", "prompt": "Place the site", "targets": ["site_a"]},
        ],
    )
    r = score(question, Answer(steps=(Answer(choices=(0,)), Answer(pins_px=(px(v, "site_a"),)))), v, flat[0])
    assert r.credit == 1.0 and len(r.steps) == 2
    r2 = score(question, Answer(steps=(Answer(choices=(1,)), Answer(pins_px=(px(v, "site_a"),)))), v, flat[0])
    assert r2.credit == 0.5


@settings(max_examples=60, deadline=None)
@given(dx=st.floats(-60, 60), dy=st.floats(-60, 60))
def test_mirroring_left_and_right_gives_the_same_score(flat: tuple[Atlas, Path], dx: float, dy: float) -> None:
    right, left = view_of(flat, "right"), view_of(flat, "left")
    xr, yr = px(right, "site_a")
    xl, yl = px(left, "site_a")
    rr = score(q(), Answer(pins_px=((xr + dx, yr + dy),)), right, flat[0])
    rl = score(q(), Answer(pins_px=((xl - dx, yl + dy),)), left, flat[0])
    assert rr.credit == pytest.approx(rl.credit, abs=1e-9)
    assert rr.pins[0].direction_text == rl.pins[0].direction_text


@settings(max_examples=60, deadline=None)
@given(d1=st.floats(0, 8), d2=st.floats(0, 8), angle=st.floats(0, 6.283))
def test_credit_never_increases_with_distance(flat: tuple[Atlas, Path], d1: float, d2: float, angle: float) -> None:
    v = view_of(flat)
    x, y = px(v, "site_a")
    near, far = sorted([d1, d2])
    c, s = np.cos(angle), np.sin(angle)
    question = q(zero_cm=6.0)
    # The vein lies 3 cm lateral: keep away from it so only distance matters.
    if c < 0.2 and (abs(s) < 0.9):
        c = abs(c) + 0.2
    r_near = score(question, Answer(pins_px=((x + c * near * PX_PER_CM * 0.3, y + s * near * PX_PER_CM * 0.3),)), v, flat[0])
    r_far = score(question, Answer(pins_px=((x + c * far * PX_PER_CM * 0.3, y + s * far * PX_PER_CM * 0.3),)), v, flat[0])
    assert r_far.credit <= r_near.credit + 1e-12


@given(st.lists(st.floats(0, 50), min_size=2, max_size=20))
def test_credit_curve_is_monotone(ds: list[float]) -> None:
    ds_sorted = np.sort(np.array(ds))
    credits = credit_for_distance(ds_sorted, 1.0, 3.0)
    assert np.all(np.diff(credits) <= 1e-12)
