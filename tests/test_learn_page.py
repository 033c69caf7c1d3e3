"""Learn: lesson files, their checks, and the page model (what a step shows, the buttons, scoring)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from trainer.atlas import load_atlas
from trainer.atlas.core import Atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.learn import page
from trainer.learn.figures import lesson_figure
from trainer.learn.lessons import check_lessons, lessons_dir, load_lessons
from trainer.learn.models import LessonFile
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QuestionModel
from trainer.settings import quiz_dir
from trainer.store.lessons import LessonProgress

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def atlas() -> Atlas:
    return load_atlas()


@pytest.fixture(scope="module")
def questions(atlas: Atlas) -> dict[str, QuestionModel]:
    return {q.id: q for q in load_questions(atlas, [quiz_dir()])}


@pytest.fixture(scope="module")
def lessons() -> dict[str, LessonFile]:
    return {lf.lesson.id: lf for lf in load_lessons(lessons_dir(quiz_dir()))}


def _lesson(**over: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "schema_version": 1,
        "lesson": {
            "id": "demo",
            "title": "Demo lesson",
            "kind": "condition",
            "region": "elbow_lateral",
            "conditions": ["lateral_epicondylitis"],
            "summary": "A lesson written for this test.",
        },
        "steps": [
            {
                "id": "palpate",
                "kind": "palpate",
                "title": "Find the epicondyle",
                "text": "Bend the elbow and find the bony point.",
                "landmarks": ["lateral_epicondyle_humerus"],
                "references": ["gray_anatomy"],
            }
        ],
        "check": ["clinical_tennis_elbow_nerves"],
    }
    doc.update(over)
    return doc


def _check(
    tmp_path: Path, atlas: Atlas, questions: dict[str, QuestionModel], doc: dict[str, object]
) -> list[str]:
    (tmp_path / "demo.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    problems, _ = check_lessons(atlas, tmp_path, questions)
    return [str(p) for p in problems]


def test_the_shipped_lessons_validate_and_cover_the_seed_conditions_and_the_method(
    atlas: Atlas, questions: dict[str, QuestionModel], lessons: dict[str, LessonFile]
) -> None:
    problems, n = check_lessons(atlas, lessons_dir(quiz_dir()), questions)
    assert problems == [] and n == len(lessons)
    covered = {c for lf in lessons.values() for c in lf.lesson.conditions}
    assert {
        "lateral_epicondylitis",
        "knee_osteoarthritis",
        "plantar_fasciitis",
        "achilles_tendinopathy",
    } <= covered
    assert lessons["pit_method"].lesson.kind == "method"
    for lf in lessons.values():
        assert page.check_questions(lf, questions), f"{lf.lesson.id} has no check question to answer"


def test_a_valid_lesson_has_no_problems(
    tmp_path: Path, atlas: Atlas, questions: dict[str, QuestionModel]
) -> None:
    assert _check(tmp_path, atlas, questions, _lesson()) == []


def test_unknown_ids_are_reported_with_file_step_and_field(
    tmp_path: Path, atlas: Atlas, questions: dict[str, QuestionModel]
) -> None:
    doc = _lesson()
    step = dict(doc["steps"][0])  # type: ignore[index]
    step.update(landmarks=["lateral_epicondyle_humerus", "no_such_landmark"], references=["no_such_ref"])
    doc["steps"] = [step]
    doc["check"] = ["no_such_question", "elbow_lateral_loc_pacn_hiatus"]
    found = _check(tmp_path, atlas, questions, doc)
    assert "demo.yaml: palpate: landmarks: unknown landmark 'no_such_landmark'" in " ".join(found)
    assert any("palpate: references: unknown reference 'no_such_ref'" in f for f in found)
    assert any("demo: check: unknown question id 'no_such_question'" in f for f in found)
    assert any("'elbow_lateral_loc_pacn_hiatus' is a locate question" in f for f in found)


def test_a_shape_error_names_the_step_and_field(
    tmp_path: Path, atlas: Atlas, questions: dict[str, QuestionModel]
) -> None:
    doc = _lesson()
    step = dict(doc["steps"][0])  # type: ignore[index]
    step.pop("references")
    step["colour"] = "red"
    doc["steps"] = [step]
    found = _check(tmp_path, atlas, questions, doc)
    assert any("palpate: references: required field is missing" in f for f in found)
    assert any("palpate: colour: unknown field" in f for f in found)


def test_an_item_the_view_does_not_show_is_reported(
    tmp_path: Path, atlas: Atlas, questions: dict[str, QuestionModel]
) -> None:
    doc = _lesson()
    step = dict(doc["steps"][0])  # type: ignore[index]
    # macn_fascial_hiatus lies on the inner arm, out of the lateral elbow view (the LACN's
    # emergence, used here before, moved to the lateral edge of the biceps tendon and shows now)
    step.update(kind="sites", sites=["macn_fascial_hiatus"])
    doc["steps"] = [step]
    found = _check(tmp_path, atlas, questions, doc)
    assert any("'macn_fascial_hiatus' is not visible in view elbow_lateral_right" in f for f in found)


def test_the_list_puts_the_method_first_and_says_where_the_learner_is(lessons: dict[str, LessonFile]) -> None:
    elbow = lessons["lateral_elbow"]
    progress = {
        "lateral_elbow": LessonProgress("lateral_elbow", 2, 3, page.page_count(elbow), None, T0),
        "pit_method": LessonProgress("pit_method", 0, 8, 8, T0, T0),
    }
    groups = page.lesson_groups(list(lessons.values()), progress)
    assert [label for label, _ in groups][:2] == ["The method", "Conditions"]
    by_id = {e.id: e for _, entries in groups for e in entries}
    assert by_id["lateral_elbow"].status == f"step 3 of {page.page_count(elbow)}"
    assert by_id["pit_method"].status == "done"
    assert by_id["knee_osteoarthritis"].status == "new"


def test_buttons_and_reopening(lessons: dict[str, LessonFile]) -> None:
    elbow = lessons["lateral_elbow"]
    total = page.page_count(elbow)
    assert total == len(elbow.steps) + 1
    first = page.nav(elbow, 0)
    assert not first.back_enabled and first.next_enabled and first.next_label == "Next"
    assert page.nav(elbow, len(elbow.steps) - 1).next_label == "Check yourself"
    last = page.nav(elbow, total - 1)
    assert last.back_enabled and not last.next_enabled and page.is_check_page(elbow, total - 1)
    mid = LessonProgress("lateral_elbow", 3, 4, total, None, T0)
    assert page.reopen_page(elbow, mid) == 3
    assert page.reopen_page(elbow, LessonProgress("lateral_elbow", 3, total, total, T0, T0)) == 0
    assert page.reopen_page(elbow, LessonProgress("lateral_elbow", 40, 41, 41, None, T0)) == total - 1


def test_a_palpation_step_says_how_to_find_each_landmark(
    atlas: Atlas, lessons: dict[str, LessonFile]
) -> None:
    step = lessons["lateral_elbow"].steps[0]
    shown = page.step_page(atlas, step)
    names = [n.name for n in shown.landmarks]
    assert atlas.landmarks["lateral_epicondyle_humerus"].name in names
    assert shown.landmarks[0].how_to_find == atlas.landmarks[step.landmarks[0]].palpation
    assert shown.references and all(isinstance(r, str) and r for r in shown.references)
    avoid_step = next(s for s in lessons["lateral_elbow"].steps if s.kind == "avoid")
    assert any(line.startswith("Avoid: ") for line in page.step_page(atlas, avoid_step).shown)


def test_check_questions_score_like_practice(
    atlas: Atlas, questions: dict[str, QuestionModel], lessons: dict[str, LessonFile]
) -> None:
    asked = page.check_questions(lessons["lateral_elbow"], questions)
    q = next(q for q in asked if not q.multi_answer)
    right = tuple(i for i, c in enumerate(q.choices) if c.correct)
    wrong = next(i for i, c in enumerate(q.choices) if not c.correct)
    assert page.score_check(atlas, q, right).credit == pytest.approx(1.0)
    assert page.score_check(atlas, q, (wrong,)).credit == pytest.approx(0.0)
    results = {
        x.id: page.score_check(atlas, x, tuple(i for i, c in enumerate(x.choices) if c.correct))
        for x in asked
    }
    assert (
        page.check_summary(results, asked)
        == f"{len(asked)} of {len(asked)} right. Well done: try the questions on the body next."
    )
    assert page.check_summary({}, asked) is None


def test_missing_or_unsuitable_questions_are_left_out_not_fatal(
    questions: dict[str, QuestionModel], lessons: dict[str, LessonFile]
) -> None:
    elbow = lessons["lateral_elbow"]
    edited = elbow.model_copy(
        update={"check": ["gone_question", *elbow.check, "elbow_lateral_loc_pacn_hiatus"]}
    )
    assert [q.id for q in page.check_questions(edited, questions)] == list(elbow.check)
    params = page.practice_params(elbow, questions)
    assert params == {"questions": ",".join(elbow.practice)}
    assert page.practice_params(elbow.model_copy(update={"practice": ["gone"]}), questions) is None


def test_the_step_figure_emphasises_only_the_steps_items(
    atlas: Atlas, lessons: dict[str, LessonFile]
) -> None:
    elbow = lessons["lateral_elbow"]
    view_id = page.view_for(atlas, elbow, "left")
    assert view_id == "elbow_lateral_left"
    view = load_rendered_view(view_id, atlas.default_body_type)
    step = next(s for s in elbow.steps if s.kind == "sites")
    fig = lesson_figure(view, atlas, page.step_page(atlas, step).focus)
    names = {t.name for t in fig.data if t.name}
    assert atlas.nerves["posterior_antebrachial_cutaneous"].name in names
    site_trace = next(t for t in fig.data if t.name == "Sites")
    assert len(site_trace.x) == len(step.sites)
    assert (
        atlas.nerves["lateral_antebrachial_cutaneous"].name not in names
    )  # not this step's: drawn faint, unnamed
    hover = " ".join(str(t.hovertemplate) for t in fig.data)
    assert atlas.nerves["lateral_antebrachial_cutaneous"].name in hover


def test_validate_reports_a_broken_lesson_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lessons: dict[str, LessonFile]
) -> None:
    import shutil

    from trainer.cli import main

    quizzes = tmp_path / "quizzes"
    (quizzes / "lessons").mkdir(parents=True)
    lesson = lessons["lateral_elbow"]
    wanted = {*lesson.check, *lesson.practice}
    for bank in quiz_dir().glob("*.yaml"):  # only the banks the lesson uses: a quick check
        if any(f"id: {qid}\n" in bank.read_text(encoding="utf-8") for qid in wanted):
            shutil.copy(bank, quizzes / bank.name)
    broken = yaml.safe_load((lessons_dir(quiz_dir()) / "lateral_elbow.yaml").read_text(encoding="utf-8"))
    broken["steps"][0]["landmarks"].append("olecranon_tip_typo")
    broken["check"].append("no_such_question")
    (quizzes / "lessons" / "lateral_elbow.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert main(["validate", "--no-renders", "--quizzes", str(quizzes)]) == 1
    out = capsys.readouterr().out
    assert "lessons/lateral_elbow.yaml: palpate: landmarks: unknown landmark 'olecranon_tip_typo'" in out
    assert "lessons/lateral_elbow.yaml: lateral_elbow: check: unknown question id 'no_such_question'" in out


def test_every_step_of_every_shipped_lesson_draws_what_it_names(
    atlas: Atlas, lessons: dict[str, LessonFile]
) -> None:
    for lf in lessons.values():
        view_id = page.view_for(atlas, lf, "right")
        assert (view_id is None) == (lf.lesson.region is None), lf.lesson.id
        view = load_rendered_view(view_id, atlas.default_body_type) if view_id else None
        for step in lf.steps:
            shown = page.step_page(atlas, step)
            assert shown.text and shown.references, (lf.lesson.id, step.id)
            if view is None or shown.focus.empty:
                continue
            fig = lesson_figure(view, atlas, shown.focus)
            names = {t.name for t in fig.data}
            for nerve_id in step.nerves:
                assert atlas.nerves[nerve_id].name in names, (lf.lesson.id, step.id, nerve_id)
            if step.sites:
                assert len(next(t for t in fig.data if t.name == "Sites").x) == len(step.sites)
            if step.landmarks:
                assert len(next(t for t in fig.data if t.name == "Landmarks").x) == len(step.landmarks)


def test_stats_count_the_lessons_and_the_evidence_map(atlas: Atlas, lessons: dict[str, LessonFile]) -> None:
    from trainer.settings import atlas_dir
    from trainer.tools.stats import atlas_stats

    stats = atlas_stats(atlas_dir(), quiz_dir())
    assert stats["lessons"] == len(lessons)
    assert stats["regions_with_lesson"] == len(
        {lf.lesson.region for lf in lessons.values() if lf.lesson.region}
    )
    assert isinstance(stats["evidence_studies"], int) and stats["evidence_studies"] > 0
