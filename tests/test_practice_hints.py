"""Hints in Practice (issue 15 item 2): offered only where they do not give the answer away,
their cost taken off the credit and said, shown on the board, and stored with the attempt."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, six_step_case
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.practice import hints
from trainer.practice import page as model
from trainer.practice.summary import summary_rows
from trainer.progress.learning import attempts_csv, record_answer
from trainer.quiz.models import QuestionModel
from trainer.scoring.reveal import TARGET
from trainer.store import Store

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


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


def test_hints_are_offered_only_where_they_do_not_show_the_answer(
    atlas: Atlas, qs: dict[str, QuestionModel]
) -> None:
    offered = {qid: [h.id for h in hints.available(q, atlas)] for qid, q in qs.items()}
    assert offered["q_locate"] == ["landmarks", "course"]  # a site: its nerve's course helps
    assert offered["q_multi"] == ["landmarks"]  # the nerve itself is a target
    assert offered["q_trace"] == ["landmarks"]
    assert offered["q_terr_tap"] == ["landmarks"]
    assert offered["q_clinical"] == offered["q_identify"] == offered["q_terr_name"] == []
    assert offered["q_case"] == ["landmarks", "course"]
    assert offered["q_case6"] == []  # it asks to place a landmark
    assert hints.LANDMARKS.button_text == "Landmarks (−10)"
    assert hints.COURSE.button_text == "Nerve course (−25)"


def test_the_board_shows_the_hint_and_never_the_target(atlas: Atlas, qs: dict[str, QuestionModel]) -> None:
    view = load_rendered_view("view_a_right", "female", atlas.root)
    q = qs["q_locate"]
    assert hints.shapes([], q, view, atlas) == []
    marks = hints.shapes(["landmarks"], q, view, atlas)
    assert {s["text"] for s in marks if s["type"] == "text"} == {"Landmark A", "Landmark B"}
    course = hints.shapes(["course"], q, view, atlas)
    assert course and {s["type"] for s in course} == {"polyline"}
    site_x, site_y = (round(float(v), 1) for v in view.items["site_a"].points_px[0])
    for s in [*marks, *course]:
        assert s.get("stroke") != TARGET and s.get("fill") != TARGET
        assert not (s["type"] == "circle" and (s["x"], s["y"]) == (site_x, site_y))


def test_a_hint_costs_its_stated_points_once(atlas: Atlas, qs: dict[str, QuestionModel]) -> None:
    q = qs["q_locate"]
    view = load_rendered_view("view_a_right", "female", atlas.root)
    draft = model.new_draft(q)
    x, y = view.items["site_a"].points_px[0]
    model.add_pin(q, draft, (float(x), float(y)))
    assert model.use_hint(q, atlas, draft, "course")
    assert not model.use_hint(q, atlas, draft, "course")  # once
    assert not model.use_hint(qs["q_multi"], atlas, model.new_draft(qs["q_multi"]), "course")  # not offered
    assert [(h.id, enabled) for h, enabled in model.offered_hints(q, atlas, draft, False)] == [
        ("landmarks", True),
        ("course", False),
    ]
    result = model.submit(q, draft, {}, view, atlas)
    assert result.credit == pytest.approx(0.75) and result.hints == ("course",)
    assert result.feedback.endswith("Hints used: show the nerve's course (−25 points); 100% before hints.")
    model.use_hint(q, atlas, draft, "landmarks")
    both = model.submit(q, draft, {}, view, atlas)
    assert both.credit == pytest.approx(0.65) and both.hints == ("course", "landmarks")
    assert summary_rows([("Where?", both)])[0].hints == (
        "show the nerve's course (−25 points), show the landmarks (−10 points)"
    )
    far = model.new_draft(q)
    model.add_pin(q, far, (0.0, 0.0))
    model.use_hint(q, atlas, far, "course")
    assert model.submit(q, far, {}, view, atlas).credit == 0.0  # never below zero


def test_the_hints_used_are_stored_with_the_attempt(
    atlas: Atlas, qs: dict[str, QuestionModel], tmp_path: Path
) -> None:
    q = qs["q_locate"]
    view = load_rendered_view("view_a_right", "female", atlas.root)
    draft = model.new_draft(q)
    x, y = view.items["site_a"].points_px[0]
    model.add_pin(q, draft, (float(x), float(y)))
    model.use_hint(q, atlas, draft, "landmarks")
    result = model.submit(q, draft, {}, view, atlas)
    store = Store(f"sqlite:///{tmp_path / 'trainer.sqlite3'}")
    try:
        ana = store.create_learner("Ana", now=NOW)
        kept = record_answer(
            store,
            atlas,
            ana.id,
            q,
            result,
            view_id=view.view_id,
            body_type="female",
            duration_ms=900,
            now=NOW,
        )
        [stored] = store.list_attempts(ana.id)
        assert stored.hints == kept.hints == ("landmarks",) and stored.credit == pytest.approx(0.9)
        assert attempts_csv([stored]).splitlines()[1].endswith(",landmarks")
        document = store.export_learner(ana.id)
        assert document["attempts"][0]["hints"] == ["landmarks"]
        store.delete_learner(ana.id)
        store.import_learner(document, now=NOW)
        assert store.list_attempts(ana.id)[0].hints == ("landmarks",)
    finally:
        store.close()
    row = model.anonymous_attempt(q, view, result, 900, NOW)
    assert row["hints"] == ["landmarks"]
