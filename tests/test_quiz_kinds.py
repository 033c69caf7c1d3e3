"""What each question type does (trainer.quiz.kinds), which view it is shown on, how an answer
is built, and a case with several placing and choice steps scored step by step."""

from __future__ import annotations

import random

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, six_step_case
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.quiz import kinds
from trainer.quiz.answers import Answer, build_answer
from trainer.quiz.checks import question_problems
from trainer.quiz.models import QUESTION_TYPES, QuestionModel
from trainer.quiz.views import view_id_for, view_ids_of, view_region
from trainer.scoring.score import score


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> Atlas:
    root = write_atlas(tmp_path_factory.mktemp("atlas"), good_atlas_data())
    loaded = load_atlas(root)
    assert loaded is not None
    return loaded


def bank() -> dict[str, QuestionModel]:
    qs = [QuestionModel.model_validate(x) for x in [*good_bank()["questions"], six_step_case()]]
    return {q.id: q for q in qs}


def test_every_type_has_a_kind_and_a_label() -> None:
    assert set(kinds.KINDS) == set(QUESTION_TYPES)
    assert kinds.type_label("multi_site") == "Multi-site"
    assert kinds.type_label("unknown_type") == "unknown_type"


def test_answer_modes_and_pin_ranges() -> None:
    qs = bank()
    expected = {
        "q_locate": ("pins", (1, 1)),
        "q_multi": ("pins", (2, 5)),
        "q_trace": ("pins", (2, kinds.TRACE_MAX_PINS)),
        "q_identify": ("choices", (0, 0)),
        "q_terr_tap": ("pins", (1, 1)),
        "q_terr_name": ("choices", (0, 0)),
        "q_clinical": ("choices", (0, 0)),
        "q_case": ("both", (0, 0)),
    }
    for qid, (mode, pins) in expected.items():
        assert (kinds.answer_mode(qs[qid]), kinds.pin_range(qs[qid])) == (mode, pins), qid
    case = qs["q_case6"]
    assert [kinds.pin_range(case, i) for i in range(6)] == [(0, 0), (1, 1), (1, 4), (0, 0), (1, 1), (0, 0)]
    assert [p.index for p in kinds.placing_parts(case)] == [1, 2, 4]
    assert kinds.placing_targets(case) == ["lm_a", "site_a", "vein_a"]
    assert [i for i, _ in kinds.choice_sets(case)] == [0, 3, 5]


def test_scoring_rules_and_what_is_shown_before_the_answer() -> None:
    qs = bank()
    rules = {qid: kinds.scoring_rule(q) for qid, q in qs.items()}
    assert rules["q_locate"] == "one_pin" and rules["q_multi"] == "matched_pins"
    assert rules["q_trace"] == "course" and rules["q_terr_tap"] == "inside_area"
    assert rules["q_identify"] == rules["q_terr_name"] == rules["q_clinical"] == "options"
    assert rules["q_case"] == rules["q_case6"] == "steps"
    assert [qid for qid, q in qs.items() if kinds.shows_picture(q)] == ["q_identify", "q_terr_name"]
    assert [qid for qid, q in qs.items() if not kinds.is_live(q)] == ["q_case", "q_case6"]


def test_build_answer_puts_each_part_in_its_step() -> None:
    case = bank()["q_case6"]
    answer = build_answer(case, {1: [(1.0, 2.0)], 4: [(5.0, 6.0)]}, {0: [0], 3: [1]})
    assert answer.steps == (
        Answer(choices=(0,)),
        Answer(pins_px=((1.0, 2.0),)),
        Answer(),
        Answer(choices=(1,)),
        Answer(pins_px=((5.0, 6.0),)),
        Answer(),
    )
    plain = bank()["q_multi"]
    assert build_answer(plain, {kinds.OWN: [(1.0, 1.0)]}, {}) == Answer(pins_px=((1.0, 1.0),))


def test_one_rule_for_the_view_of_a_side(atlas: Atlas) -> None:
    assert view_ids_of(atlas, "view_a") == ["view_a_left", "view_a_right"]
    assert view_id_for(atlas, "view_a", "right") == "view_a_right"
    assert view_id_for(atlas, "view_a", "left") == "view_a_left"
    assert view_id_for(atlas, "view_a_left", "right") == "view_a_left"  # a full id keeps its side
    assert view_id_for(atlas, "nowhere", "right") is None and view_id_for(atlas, None) is None
    drawn = {view_id_for(atlas, "view_a", "mixed", random.Random(seed)) for seed in range(20)}
    assert drawn == {"view_a_left", "view_a_right"}
    assert view_region(atlas, "view_a") == view_region(atlas, "view_a_right") == "reg_a"


def test_a_case_may_place_landmarks_and_mark_what_to_avoid(atlas: Atlas) -> None:
    assert question_problems(atlas, bank()["q_case6"]) == []


def _at(view_id: str, atlas: Atlas, item: str) -> tuple[float, float]:
    view = load_rendered_view(view_id, "female", atlas.root)
    x, y = view.items[item].points_px[0]
    return float(x), float(y)


@pytest.mark.parametrize("view_id", ["view_a_right", "view_a_left"])
def test_a_six_step_case_is_scored_step_by_step(atlas: Atlas, view_id: str) -> None:
    case = bank()["q_case6"]
    view = load_rendered_view(view_id, "female", atlas.root)
    pins = {
        1: [_at(view_id, atlas, "lm_a")],
        2: [_at(view_id, atlas, "site_a")],
        4: [_at(view_id, atlas, "vein_a")],
    }
    right = {0: [0], 3: [0], 5: [0]}
    full = score(case, build_answer(case, pins, right), view, atlas)
    assert [s.credit for s in full.steps] == [1.0] * 6
    assert full.credit == 1.0 and full.safety == ()  # marking the vein is not an unsafe pin
    assert full.feedback.startswith("Step 1: Correct. Step 2: 1 of 1 sites within tolerance.")

    x, y = pins[2][0]
    ppc = view.camera.px_per_cm
    off = {**pins, 2: [(x, y - 2.0 * ppc)]}  # the site pin 2 cm off: halfway to zero_cm (3 cm)
    wrong = {0: [1], 3: [0], 5: [1]}
    partial = score(case, build_answer(case, off, wrong), view, atlas)
    credits = [round(s.credit, 2) for s in partial.steps]
    assert credits == [0.0, 1.0, 0.5, 1.0, 1.0, 0.0]
    assert partial.credit == pytest.approx(sum(credits) / 6, abs=0.01)


def test_a_pin_on_the_vein_still_scores_zero_when_the_vein_is_not_its_target(atlas: Atlas) -> None:
    q = bank()["q_locate"]
    view = load_rendered_view("view_a_right", "female", atlas.root)
    result = score(q, Answer(pins_px=(_at("view_a_right", atlas, "vein_a"),)), view, atlas)
    assert result.credit == 0.0 and result.safety


def test_type_checks_are_false_for_other_types() -> None:
    qs = bank()
    assert [qid for qid, q in qs.items() if kinds.is_case(q)] == ["q_case", "q_case6"]
    assert [qid for qid, q in qs.items() if kinds.places_sites(q)] == ["q_locate", "q_multi", "q_terr_tap"]
    assert [qid for qid, q in qs.items() if kinds.asks_choices(q)] == [
        "q_identify",
        "q_terr_name",
        "q_clinical",
    ]
