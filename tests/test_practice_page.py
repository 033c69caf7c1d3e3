"""The Practice page model (trainer.practice.page): pins per part, enabled buttons, captions,
what a submit scores and stores, for plain questions and a case with several placing steps."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, six_step_case
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.practice import page as model
from trainer.quiz.kinds import OWN
from trainer.quiz.models import QuestionModel


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> Atlas:
    root = write_atlas(tmp_path_factory.mktemp("atlas"), good_atlas_data())
    loaded = load_atlas(root)
    assert loaded is not None
    return loaded


@pytest.fixture(scope="module")
def qs() -> dict[str, QuestionModel]:
    out = [QuestionModel.model_validate(x) for x in [*good_bank()["questions"], six_step_case()]]
    return {q.id: q for q in out}


def test_a_session_gives_each_question_a_side(atlas: Atlas, qs: dict[str, QuestionModel]) -> None:
    ids = ["q_locate", "q_clinical", "q_case6"]
    session = model.new_session(atlas, qs, ids, random.Random(1), 100.0, side="left")
    assert session["views"] == {"q_locate": "view_a_left", "q_clinical": None, "q_case6": "view_a_left"}
    assert session["index"] == 0 and session["results"] == [] and session["started"] == 100.0
    mixed = {
        model.new_session(atlas, qs, ["q_locate"], random.Random(s), 0.0)["views"]["q_locate"]
        for s in range(20)
    }
    assert mixed == {"view_a_left", "view_a_right"}
    assert model.linked_ids(qs, "q_locate,nope,q_trace") == ["q_locate", "q_trace"]


def test_a_single_pin_moves_and_a_multi_pin_question_stops_at_its_maximum(
    qs: dict[str, QuestionModel],
) -> None:
    locate = qs["q_locate"]
    draft = model.new_draft(locate)
    assert draft.active == OWN
    model.add_pin(locate, draft, (1.0, 1.0))
    model.add_pin(locate, draft, (2.0, 2.0))
    assert draft.pins == {OWN: [(2.0, 2.0)]}
    multi = qs["q_multi"]
    draft = model.new_draft(multi)
    added = [model.add_pin(multi, draft, (float(i), 0.0)) for i in range(7)]
    assert added == [True] * 5 + [False] * 2  # two targets + three extra pins allowed
    model.undo_pin(draft)
    assert len(draft.active_pins()) == 4
    model.clear_pins(draft)
    assert draft.active_pins() == []


def test_an_arrow_key_nudge_moves_the_last_pin_only(qs: dict[str, QuestionModel]) -> None:
    multi = qs["q_multi"]
    draft = model.new_draft(multi)
    assert not model.move_last_pin(multi, draft, (9.0, 9.0))  # no pin yet: nothing to move
    model.add_pin(multi, draft, (1.0, 1.0))
    model.add_pin(multi, draft, (5.0, 5.0))
    assert model.move_last_pin(multi, draft, (5.3, 4.9))
    assert draft.active_pins() == [(1.0, 1.0), (5.3, 4.9)]
    assert not model.move_last_pin(qs["q_identify"], model.new_draft(qs["q_identify"]), (1.0, 1.0))


def test_a_choice_question_has_no_board_pins_and_needs_a_pick(qs: dict[str, QuestionModel]) -> None:
    q = qs["q_clinical"]
    draft = model.new_draft(q)
    assert draft.active is None and not model.add_pin(q, draft, (1.0, 1.0))
    assert not model.board(q, False, draft, answered=False).shown
    assert not model.can_submit(q, draft, {})
    assert model.can_submit(q, draft, {OWN: (0,)})
    identify = qs["q_identify"]
    surface = model.board(identify, True, model.new_draft(identify), answered=False)
    assert surface.shown and not surface.active and surface.hint == ""


def test_the_board_hint_buttons_and_captions(qs: dict[str, QuestionModel]) -> None:
    locate, multi, trace = qs["q_locate"], qs["q_multi"], qs["q_trace"]
    draft = model.new_draft(locate)
    surface = model.board(locate, True, draft, answered=False)
    assert surface.active and surface.hint == "Tap where you would inject." and not surface.can_undo
    model.add_pin(locate, draft, (1.0, 1.0))
    assert model.board(locate, True, draft, answered=False).can_undo
    assert not model.board(locate, True, draft, answered=True).active
    draft = model.new_draft(multi)
    model.add_pin(multi, draft, (1.0, 1.0))
    surface = model.board(multi, True, draft, answered=False)
    assert surface.hint == "Tap to add pins (1 placed)." and surface.can_clear
    assert not model.can_submit(multi, draft, {})
    model.add_pin(multi, draft, (2.0, 1.0))
    assert model.can_submit(multi, draft, {})
    assert model.instructions(multi, draft).startswith("Place 2 pins. Each extra pin")
    assert "Tap points along the nerve's course" in model.instructions(trace, model.new_draft(trace))
    assert model.instructions(locate, model.new_draft(locate)) == ""


def test_a_case_sends_taps_to_the_placing_step_chosen(qs: dict[str, QuestionModel]) -> None:
    case = qs["q_case6"]
    draft = model.new_draft(case)
    assert draft.active == 1 and draft.pins == {1: [], 2: [], 4: []}
    assert [i for i, _ in model.placing_choices(case, draft)] == [1, 2, 4]
    model.add_pin(case, draft, (1.0, 1.0))
    model.select_part(case, draft, 3)  # a choice step cannot take pins
    assert draft.active == 1
    model.select_part(case, draft, 4)
    model.add_pin(case, draft, (4.0, 4.0))
    assert not model.can_submit(case, draft, {})  # step 3 (index 2) has no pin yet
    model.select_part(case, draft, 2)
    model.add_pin(case, draft, (2.0, 2.0))
    assert model.can_submit(case, draft, {})
    assert draft.all_pins() == [(1.0, 1.0), (2.0, 2.0), (4.0, 4.0)]
    lines = model.part_lines(case, draft)
    assert [line.places_pins for line in lines] == [False, True, True, False, True, False]
    assert lines[1].text == "Step 2: Place landmark A. (on the image, 1 of 1 placed)"
    assert model.placing_choices(qs["q_case"], model.new_draft(qs["q_case"])) == []  # one placing step
    # The caption above the image names the step the taps go to (on a phone the list is below).
    assert model.instructions(
        case, draft
    ) == "Step 3: Place the site. Place 1 pin. " + model.extra_pin_policy_text(case.extra_pins)
    model.select_part(case, draft, 4)
    assert model.instructions(case, draft) == "Step 5: Mark the vein to avoid."


def test_a_submit_scores_every_step_and_stores_an_attempt(atlas: Atlas, qs: dict[str, QuestionModel]) -> None:
    case = qs["q_case6"]
    view = load_rendered_view("view_a_right", "female", atlas.root)
    draft = model.new_draft(case)
    for step, item in ((1, "lm_a"), (2, "site_a"), (4, "vein_a")):
        model.select_part(case, draft, step)
        x, y = view.items[item].points_px[0]
        model.add_pin(case, draft, (float(x), float(y)))
    result = model.submit(case, draft, {0: (0,), 3: (0,), 5: (1,)}, view, atlas)
    assert [s.credit for s in result.steps] == [1.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    assert model.tone(result) == "warning" and model.headline(result).startswith("83% — Step 1: Correct.")
    assert model.nearest_note(result) is not None
    now = datetime(2026, 1, 1, tzinfo=UTC)
    row = model.anonymous_attempt(case, view, result, 1234, now)
    assert (row["question_id"], row["view_id"], row["duration_ms"], row["created_at"]) == (
        "q_case6",
        "view_a_right",
        1234,
        now,
    )
    assert row["credit"] == result.credit
    assert model.references_note(atlas, result) == "Reference: Doe J. A test paper. J Test. 2020;1:1-2."
    assert model.next_label(0, 2) == "Next question" and model.next_label(1, 2) == "See summary"
    assert model.session_score([("a", result), ("b", result)]) == pytest.approx(result.credit)
    assert model.session_score([]) == 0.0


def test_caption_names_the_view_when_a_region_has_several() -> None:
    """The wrist's radial-side and dorsal views look alike at a glance: the caption says which."""
    real = load_atlas()
    side_view = load_rendered_view("radial_side_right", "male", real.root)
    dorsal = load_rendered_view("wrist_hand_dorsal_left", "female", real.root)
    assert model.view_caption(real, side_view) == (
        "Dorsal wrist and hand · Lateral view (radial side) · right side · Average male"
    )
    assert (
        model.view_caption(real, dorsal)
        == "Dorsal wrist and hand · Posterior view · left side · Average female"
    )


def test_caption_of_a_region_with_one_view_has_no_view_name(tmp_path: Path) -> None:
    atlas = load_atlas(write_atlas(tmp_path / "atlas", good_atlas_data()))
    view = load_rendered_view("view_a_left", "female", atlas.root)
    assert model.view_caption(atlas, view) == f"Region A · left side · {atlas.body_types['female'].name}"
