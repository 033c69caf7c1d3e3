"""Scoring on known geometry: a flat skin plane where 1 cm is exactly 10 px."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.atlas_factory import good_atlas_data, write_atlas
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.geometry import CLICK_NOISE_CM, closest_on_polyline
from trainer.quiz.models import QuestionModel
from trainer.scoring.score import Answer, credit_for_distance, score

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
        "id": "q1",
        "type": "locate",
        "prompt": "Place the site",
        "view": "view_a",
        "targets": ["site_a"],
        "explanation": "Because.",
        "references": ["ref_a"],
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
    r3 = score(
        question.model_copy(update={"extra_pins": "ignore"}),
        Answer(pins_px=(nerve_top, site, (5.0, 5.0))),
        v,
        flat[0],
    )
    assert r3.credit == 1.0


def _course_px(view: RenderedView, item: str, spacing_cm: float) -> list[tuple[float, float]]:
    """Points every ``spacing_cm`` along an item's course, in image px (flat view: 10 px a cm)."""
    line = view.items[item].points_px
    seg = np.linalg.norm(np.diff(line, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    at = np.arange(0.0, cum[-1] + 1e-9, spacing_cm * PX_PER_CM)
    return [(float(np.interp(a, cum, line[:, 0])), float(np.interp(a, cum, line[:, 1]))) for a in at]


def test_trace_on_the_course_scores_full_and_partial_coverage_less(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    pts = _course_px(v, "nerve_a", 2.0)  # 0, 2, 4, 6 cm: each covers 1 cm either side
    question = q(type="trace", targets=["nerve_a"])
    full = score(question, Answer(pins_px=tuple(pts)), v, flat[0])
    assert full.credit == pytest.approx(1.0)
    half = score(question, Answer(pins_px=tuple(pts[:2])), v, flat[0])  # 0..3 cm of 6
    assert half.details["coverage"] == pytest.approx(0.5)
    assert half.credit == pytest.approx(0.5)
    assert "cover 50% of its visible course" in half.feedback


def test_two_points_at_the_ends_do_not_cover_the_whole_course(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    ends = [tuple(float(c) for c in p) for p in v.items["nerve_a"].points_px]
    r = score(q(type="trace", targets=["nerve_a"]), Answer(pins_px=tuple(ends)), v, flat[0])
    assert r.details["coverage"] == pytest.approx(2 / 6)  # 1 cm at each end of a 6 cm course


def test_an_on_course_trace_outscores_the_same_trace_1_4_cm_off(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    on = _course_px(v, "nerve_a", 1.0)
    off = [(x - 1.4 * PX_PER_CM, y) for x, y in on]  # lateral on the right view, away from the vein
    # The tolerances of most shipped trace questions: 1.4 cm off is *within* the tolerance, and
    # still a path drawn on the nerve must score higher than one drawn beside it.
    question = q(type="trace", targets=["nerve_a"], tolerance_cm=1.5, zero_cm=3.5)
    r_on, r_off = (score(question, Answer(pins_px=tuple(p)), v, flat[0]) for p in (on, off))
    assert r_on.credit == pytest.approx(1.0)
    assert r_off.credit == pytest.approx(float(credit_for_distance(1.4, CLICK_NOISE_CM, 3.5)))
    assert r_on.credit > r_off.credit


@pytest.mark.parametrize("offset_cm", [0.0, 0.5, 1.4, 2.2])
def test_full_coverage_beats_half_coverage_at_equal_distance(
    flat: tuple[Atlas, Path], offset_cm: float
) -> None:
    v = view_of(flat)
    pts = [(x - offset_cm * PX_PER_CM, y) for x, y in _course_px(v, "nerve_a", 1.0)]
    question = q(type="trace", targets=["nerve_a"])
    full = score(question, Answer(pins_px=tuple(pts)), v, flat[0])
    half = score(question, Answer(pins_px=tuple(pts[: len(pts) // 2])), v, flat[0])
    assert full.credit > half.credit
    assert full.details["mean_distance_cm"] == pytest.approx(half.details["mean_distance_cm"])


def test_stray_points_lower_a_trace_that_covers_the_course(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    pts = _course_px(v, "nerve_a", 1.0)
    question = q(type="trace", targets=["nerve_a"])
    clean = score(question, Answer(pins_px=tuple(pts)), v, flat[0])
    stray = score(question, Answer(pins_px=(*pts, (180.0, 20.0), (20.0, 180.0))), v, flat[0])
    assert clean.credit == pytest.approx(1.0)
    assert stray.credit == pytest.approx(len(pts) / (len(pts) + 2))
    assert "hold the score to" in stray.feedback


# An L-shaped course for the trace property: 3 cm down the leg, then 4 cm medially.
BENT = [{"proximal_cm": 3.0}, {}, {"medial_cm": 4.0}]


@pytest.fixture(scope="module")
def bent(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, RenderedView]:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["nerves"][0]["course"] = [
        {"landmark": "lm_a", "ref": "ref_a", "value": "test value", **p} for p in BENT
    ]
    root = write_atlas(tmp_path_factory.mktemp("bent") / "atlas", data)
    return load_atlas(root), load_rendered_view("view_a_right", "female", root)


def _course_frame_px(view: RenderedView, arc_cm: float) -> tuple[np.ndarray, np.ndarray]:
    """The course point at ``arc_cm`` along the L and the unit normal there, in image px."""
    line = view.items["nerve_a"].points_px
    seg = np.diff(line, axis=0)
    seg_len = np.linalg.norm(seg, axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    a = min(arc_cm * PX_PER_CM, cum[-1])
    k = min(int(np.searchsorted(cum, a, side="right")) - 1, len(seg) - 1)
    tangent = seg[k] / seg_len[k]
    return line[k] + (a - cum[k]) * tangent, np.array([-tangent[1], tangent[0]])


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 7.0), st.floats(-3.0, 3.0), st.floats(0.0, 3.0)), min_size=2, max_size=12
    )
)
def test_moving_every_trace_point_away_from_the_course_never_raises_the_score(
    bent: tuple[Atlas, RenderedView], points: list[tuple[float, float, float]]
) -> None:
    """ "Away" means: each point moves outward along the line from its closest course point through
    it, so its distance to the course does not shrink and the course position it projects to
    (its arc length along the course) stays the same. Examples where that does not hold on the
    L (near its corner) are discarded, not bent to fit."""
    atlas, v = bent
    course = v.items["nerve_a"].points_cm
    before, after = [], []
    for arc_cm, offset_cm, push_cm in points:
        base, normal = _course_frame_px(v, arc_cm)
        sign = 1.0 if offset_cm >= 0 else -1.0
        before.append(tuple(float(c) for c in base + offset_cm * PX_PER_CM * normal))
        after.append(tuple(float(c) for c in base + (offset_cm + sign * push_cm) * PX_PER_CM * normal))
    b_cm, _ = v.lift(*np.array(before).T)
    a_cm, _ = v.lift(*np.array(after).T)
    d_b, _, arc_b = closest_on_polyline(b_cm, course)
    d_a, _, arc_a = closest_on_polyline(a_cm, course)
    assume(np.all(d_a >= d_b - 1e-9) and np.allclose(arc_a, arc_b, atol=1e-9))
    question = q(type="trace", targets=["nerve_a"])
    r_before = score(question, Answer(pins_px=tuple(before)), v, atlas)
    r_after = score(question, Answer(pins_px=tuple(after)), v, atlas)
    assert r_after.credit <= r_before.credit + 1e-12


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
    single = q(
        type="clinical", view=None, targets=[], choices=[{"text": "a", "correct": True}, {"text": "b"}]
    )
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
        type="case",
        targets=[],
        vignette="A runner with heel pain.",
        steps=[
            {
                "type": "identify",
                "prompt": "Which nerve?",
                "choices": [{"text": "Nerve A", "correct": True, "item": "nerve_a"}, {"text": "Other"}],
            },
            {"type": "locate", "prompt": "Place the site", "targets": ["site_a"]},
        ],
    )
    r = score(question, Answer(steps=(Answer(choices=(0,)), Answer(pins_px=(px(v, "site_a"),)))), v, flat[0])
    assert r.credit == 1.0 and len(r.steps) == 2
    r2 = score(question, Answer(steps=(Answer(choices=(1,)), Answer(pins_px=(px(v, "site_a"),)))), v, flat[0])
    assert r2.credit == 0.5


@settings(max_examples=60, deadline=None)
@given(dx=st.floats(-60, 60), dy=st.floats(-60, 60))
def test_mirroring_left_and_right_gives_the_same_score(
    flat: tuple[Atlas, Path], dx: float, dy: float
) -> None:
    right, left = view_of(flat, "right"), view_of(flat, "left")
    xr, yr = px(right, "site_a")
    xl, yl = px(left, "site_a")
    rr = score(q(), Answer(pins_px=((xr + dx, yr + dy),)), right, flat[0])
    rl = score(q(), Answer(pins_px=((xl - dx, yl + dy),)), left, flat[0])
    assert rr.credit == pytest.approx(rl.credit, abs=1e-9)
    assert rr.pins[0].direction_text == rl.pins[0].direction_text


@settings(max_examples=60, deadline=None)
@given(d1=st.floats(0, 8), d2=st.floats(0, 8), angle=st.floats(0, 6.283))
def test_credit_never_increases_with_distance(
    flat: tuple[Atlas, Path], d1: float, d2: float, angle: float
) -> None:
    v = view_of(flat)
    x, y = px(v, "site_a")
    near, far = sorted([d1, d2])
    c, s = np.cos(angle), np.sin(angle)
    question = q(zero_cm=6.0)
    # The vein lies 3 cm lateral: keep away from it so only distance matters.
    if c < 0.2 and (abs(s) < 0.9):
        c = abs(c) + 0.2
    r_near = score(
        question,
        Answer(pins_px=((x + c * near * PX_PER_CM * 0.3, y + s * near * PX_PER_CM * 0.3),)),
        v,
        flat[0],
    )
    r_far = score(
        question,
        Answer(pins_px=((x + c * far * PX_PER_CM * 0.3, y + s * far * PX_PER_CM * 0.3),)),
        v,
        flat[0],
    )
    assert r_far.credit <= r_near.credit + 1e-12


@given(st.lists(st.floats(0, 50), min_size=2, max_size=20))
def test_credit_curve_is_monotone(ds: list[float]) -> None:
    ds_sorted = np.sort(np.array(ds))
    credits = credit_for_distance(ds_sorted, 1.0, 3.0)
    assert np.all(np.diff(credits) <= 1e-12)


def test_an_unsafe_pin_states_the_safety_message_once(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    x, y = px(v, "vein_a")
    r = score(q(zero_cm=10.0), Answer(pins_px=((x, y + 1),)), v, flat[0])
    assert len(r.safety) == 1 and r.safety[0].startswith("Unsafe: this pin is")
    # The feedback says where the pin is and why it scored nothing, without repeating the message.
    assert r.safety[0] not in r.feedback and "Vein A" not in r.feedback
    assert r.feedback.startswith("No credit: the pin is inside a safety zone")
    assert "lateral to the site A" in r.feedback


def _foot_atlas(root: Path, segment: str, look_from: str) -> tuple[Atlas, Path]:
    """The flat test body relabelled as a view of the sole: toes at the top of the image."""
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["region"]["segment"] = segment
    data["regions/reg_a.yaml"]["views"][0]["look_from"] = look_from
    write_atlas(root, data)
    for side in ("right", "left"):
        sidecar = root / "sidecars" / f"view_a_{side}__female.json"
        meta = json.loads(sidecar.read_text())
        # Seen from below: dorsal points away from the camera, the toes up the image, and the
        # lateral border of a right sole on the image's left (of a left sole on its right).
        meta["frame"] = {
            "proximal": [0.0, 0.0, -1.0],
            "anterior": [0.0, 1.0, 0.0],
            "lateral": [-1.0 if side == "right" else 1.0, 0.0, 0.0],
        }
        sidecar.write_text(json.dumps(meta))
    return load_atlas(root), root


@pytest.mark.parametrize(("segment", "look_from"), [("foot", "inferior"), ("leg", "superior")])
def test_on_the_foot_directions_are_toes_heel_and_borders(
    tmp_path: Path, segment: str, look_from: str
) -> None:
    atlas, root = _foot_atlas(tmp_path / "atlas", segment, look_from)
    right = load_rendered_view("view_a_right", "female", root)
    left = load_rendered_view("view_a_left", "female", root)
    xr, yr = px(right, "site_a")
    xl, yl = px(left, "site_a")
    heel = score(q(), Answer(pins_px=((xr, yr + 2 * PX_PER_CM),)), right, atlas)
    assert heel.pins[0].direction_text == "2.0 cm toward the heel"
    assert heel.feedback == "2.0 cm toward the heel from the site A (2.0 cm away)."
    toes = score(q(), Answer(pins_px=((xr - 0.5 * PX_PER_CM, yr - 1.5 * PX_PER_CM),)), right, atlas)
    assert toes.pins[0].direction_text == "1.5 cm toward the toes and 0.5 cm toward the lateral border"
    # The mirrored pin on the left sole reads the same.
    toes_left = score(q(), Answer(pins_px=((xl + 0.5 * PX_PER_CM, yl - 1.5 * PX_PER_CM),)), left, atlas)
    assert toes_left.pins[0].direction_text == toes.pins[0].direction_text
    assert toes_left.credit == pytest.approx(toes.credit, abs=1e-12)


def test_a_leg_view_from_the_front_keeps_the_leg_words(flat: tuple[Atlas, Path]) -> None:
    v = view_of(flat)
    x, y = px(v, "site_a")
    r = score(q(), Answer(pins_px=((x, y + 2 * PX_PER_CM),)), v, flat[0])
    assert r.pins[0].direction_text == "2.0 cm distal"
