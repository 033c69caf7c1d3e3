"""Load lesson files and check them against the atlas and the banks.

Problems are reported like the banks' (``file: id: field: problem``), all at once, so an
instructor writing a lesson sees every mistake in one ``python -m trainer validate`` run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from trainer.atlas.core import Atlas
from trainer.atlas.files import read_yaml, validate_model
from trainer.errors import AtlasError, Problem
from trainer.learn.models import LessonFile, StepModel
from trainer.quiz.kinds import is_clinical
from trainer.quiz.models import QuestionModel
from trainer.safetext import field_text_problems

LESSONS_FOLDER = "lessons"  # under the quiz folder: lessons sit next to the banks they check with


def lessons_dir(quiz_folder: Path) -> Path:
    return Path(quiz_folder) / LESSONS_FOLDER


def answerable_in_place(q: QuestionModel) -> bool:
    """Check-yourself questions are answered beside the lesson by choosing an option, with no
    image of their own (questions on the body open in Practice, listed under ``practice``)."""
    return is_clinical(q)


def _label(path: Path) -> str:
    parts = path.parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else str(path)


def read_lessons(folder: Path) -> tuple[dict[str, tuple[str, LessonFile]], list[Problem]]:
    """Every valid lesson in ``folder`` by id, with the file label; shape problems of the others."""
    problems: list[Problem] = []
    out: dict[str, tuple[str, LessonFile]] = {}
    folder = Path(folder)
    if not folder.is_dir():
        return out, problems
    for path in sorted(folder.glob("*.yaml")):
        label = _label(path)
        lesson = validate_model(LessonFile, read_yaml(path, label, problems), label, problems)
        if lesson is None:
            continue
        if lesson.lesson.id in out:
            problems.append(
                Problem(
                    label,
                    lesson.lesson.id,
                    "lesson.id",
                    f"duplicate lesson id (also in {out[lesson.lesson.id][0]})",
                )
            )
            continue
        out[lesson.lesson.id] = (label, lesson)
    return out, problems


def load_lessons(folder: Path) -> list[LessonFile]:
    """Valid lessons in list order (``order``, then title); ``validate`` reports the rest."""
    found, _ = read_lessons(folder)
    return sorted((lf for _, lf in found.values()), key=lambda lf: (lf.lesson.order, lf.lesson.title))


def _unknown(ids: Iterable[str], known: Mapping[str, object], what: str) -> list[str]:
    return [f"unknown {what} '{i}'" for i in ids if i not in known]


def _step_problems(atlas: Atlas, step: StepModel) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for field, ids, table, what in (
        ("landmarks", step.landmarks, atlas.landmarks, "landmark"),
        ("nerves", step.nerves, atlas.nerves, "nerve"),
        ("sites", step.sites, atlas.sites, "site"),
        ("avoid", step.avoid, atlas.avoid, "structure to avoid"),
        ("references", step.references, atlas.references, "reference"),
    ):
        found.extend((field, msg) for msg in _unknown(ids, table, what))
        if len(set(ids)) != len(ids):
            found.append((field, "an id is listed twice"))
    return found


def lesson_view_ids(atlas: Atlas, lesson: LessonFile) -> list[str]:
    """Full view ids (both sides) the lesson's figure may be drawn on."""
    info = lesson.lesson
    if info.region is None or info.region not in atlas.regions:
        return []
    views = atlas.views_of_region(info.region)
    base = info.view or (views[0].base_id if views else None)
    return [v.id for v in views if v.base_id == base]


def _visibility(atlas: Atlas, lesson: LessonFile) -> list[tuple[str, str, str]]:
    """(step id, field, problem) for every shown item that no render of the lesson's view shows."""
    out: list[tuple[str, str, str]] = []
    from trainer.atlas.rendered import load_rendered_view

    for view_id in lesson_view_ids(atlas, lesson):
        for bt in atlas.body_types:
            try:
                rv = load_rendered_view(view_id, bt, atlas.root)
            except AtlasError:
                continue  # the atlas check reports missing renders
            for step in lesson.steps:
                for field, ids, table in (
                    ("landmarks", step.landmarks, atlas.landmarks),
                    ("nerves", step.nerves, atlas.nerves),
                    ("sites", step.sites, atlas.sites),
                    ("avoid", step.avoid, atlas.avoid),
                ):
                    for i in ids:
                        item = rv.items.get(i)
                        if i in table and (item is None or not item.any_visible):
                            out.append((step.id, field, f"'{i}' is not visible in view {view_id} ({bt})"))
    return out


def lesson_problems(
    atlas: Atlas, label: str, lesson: LessonFile, questions: Mapping[str, QuestionModel]
) -> list[Problem]:
    """Every id that does not resolve, every check question that cannot be answered in place."""
    info = lesson.lesson
    lid = info.id
    found: list[Problem] = [
        Problem(label, lid, f, m) for f, m in field_text_problems(lesson.model_dump(), "")
    ]
    if info.region is not None and info.region not in atlas.regions:
        found.append(Problem(label, lid, "lesson.region", f"unknown region '{info.region}'"))
    if info.view is not None and info.region in atlas.regions and not lesson_view_ids(atlas, lesson):
        found.append(Problem(label, lid, "lesson.view", f"region '{info.region}' has no view '{info.view}'"))
    if (
        info.kind == "method"
        and info.region is None
        and any(s.landmarks or s.nerves or s.sites or s.avoid for s in lesson.steps)
    ):
        found.append(
            Problem(label, lid, "lesson.region", "steps show atlas items, so the lesson needs a region")
        )
    found.extend(
        Problem(label, lid, "lesson.conditions", m)
        for m in _unknown(info.conditions, atlas.conditions, "condition")
    )
    seen: set[str] = set()
    for step in lesson.steps:
        if step.id in seen:
            found.append(Problem(label, step.id, "id", "duplicate step id in this lesson"))
        seen.add(step.id)
        found.extend(Problem(label, step.id, f, m) for f, m in _step_problems(atlas, step))
    found.extend(Problem(label, sid, f, m) for sid, f, m in _visibility(atlas, lesson))
    for field, ids in (("check", lesson.check), ("practice", lesson.practice)):
        for qid in ids:
            q = questions.get(qid)
            if q is None:
                found.append(Problem(label, lid, field, f"unknown question id '{qid}' (not in any bank)"))
            elif field == "check" and not answerable_in_place(q):
                found.append(
                    Problem(
                        label,
                        lid,
                        field,
                        f"'{qid}' is a {q.type} question; check questions are clinical (choice) "
                        "questions. List questions on the body under 'practice'.",
                    )
                )
            elif field == "practice" and answerable_in_place(q):
                found.append(
                    Problem(label, lid, field, f"'{qid}' is a clinical question: list it under 'check'")
                )
        if len(set(ids)) != len(ids):
            found.append(Problem(label, lid, field, "a question id is listed twice"))
    return found


def check_lessons(
    atlas: Atlas, folder: Path, questions: Mapping[str, QuestionModel]
) -> tuple[list[Problem], int]:
    """Every problem of every lesson file in ``folder``, and the number of lessons read."""
    found, problems = read_lessons(folder)
    for label, lesson in found.values():
        problems.extend(lesson_problems(atlas, label, lesson, questions))
    return problems, len(found)
