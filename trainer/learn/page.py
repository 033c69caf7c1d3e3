"""The Learn page's decisions, without Streamlit: the lesson list, what a step shows, which
buttons are enabled, and what answering a check question scores and stores.

The page (``trainer/ui/pages/learn.py``) lays out widgets and calls these. A lesson is a list
of steps followed by one "check yourself" page when it has questions; the learner's place is
a single index into that list (:func:`clamp_page`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from trainer.atlas.core import Atlas
from trainer.explorer.landmark_text import landmark_hover_lines
from trainer.learn.lessons import answerable_in_place, lesson_view_ids
from trainer.learn.models import STEP_KIND_LABELS, LessonFile, StepModel
from trainer.quiz.models import QuestionModel
from trainer.scoring.score import Answer, Result, score
from trainer.store.lessons import LessonProgress

NO_LESSONS = "No lessons yet: add a lesson file under quizzes/lessons/ (see docs/lesson-format.md)."
NO_PROFILE = "Studying without a profile: your place in a lesson is kept only until you close this tab."
GROUPS: tuple[tuple[str, str], ...] = (
    ("method", "The method"),
    ("condition", "Conditions"),
    ("region", "Regions"),
)


@dataclass(frozen=True)
class LessonEntry:
    """One line of the lesson list."""

    id: str
    title: str
    summary: str
    status: str  # "new", "step 3 of 7", "done"


def lesson_groups(
    lessons: Sequence[LessonFile], progress: Mapping[str, LessonProgress]
) -> list[tuple[str, list[LessonEntry]]]:
    """Lessons grouped as the list shows them (method first, then conditions, then regions);
    empty groups are left out."""
    out: list[tuple[str, list[LessonEntry]]] = []
    for kind, label in GROUPS:
        entries = [
            LessonEntry(
                lf.lesson.id, lf.lesson.title, lf.lesson.summary, status_text(lf, progress.get(lf.lesson.id))
            )
            for lf in lessons
            if lf.lesson.kind == kind
        ]
        if entries:
            out.append((label, entries))
    return out


def page_count(lesson: LessonFile) -> int:
    """Steps, plus the check-yourself page when the lesson has questions."""
    return len(lesson.steps) + (1 if lesson.check or lesson.practice else 0)


def status_text(lesson: LessonFile, progress: LessonProgress | None) -> str:
    if progress is None:
        return "new"
    if progress.completed:
        return "done"
    return f"step {min(progress.steps_seen, page_count(lesson))} of {page_count(lesson)}"


def clamp_page(index: int, lesson: LessonFile) -> int:
    """A page index inside the lesson (a lesson edited since the learner's last visit may be shorter)."""
    return max(0, min(index, page_count(lesson) - 1))


def reopen_page(lesson: LessonFile, progress: LessonProgress | None) -> int:
    """Where a lesson opens: the learner's last page, or the start once it is done."""
    if progress is None or progress.completed:
        return 0
    return clamp_page(progress.step_index, lesson)


def is_check_page(lesson: LessonFile, index: int) -> bool:
    return index >= len(lesson.steps)


@dataclass(frozen=True)
class Nav:
    """The buttons under a page: labels and whether each is enabled."""

    back_enabled: bool
    next_enabled: bool
    next_label: str
    progress_text: str
    progress_fraction: float


def nav(lesson: LessonFile, index: int) -> Nav:
    total = page_count(lesson)
    last = index >= total - 1
    following = "Check yourself" if index + 1 == len(lesson.steps) and total > len(lesson.steps) else "Next"
    label = "Page" if is_check_page(lesson, index) else "Step"
    return Nav(
        back_enabled=index > 0,
        next_enabled=not last,
        next_label=following,
        progress_text=f"{label} {index + 1} of {total}",
        progress_fraction=(index + 1) / total,
    )


@dataclass(frozen=True)
class LandmarkNote:
    """A landmark to palpate: its name and how to find it (from the atlas landmark files)."""

    name: str
    how_to_find: str
    definition: str


@dataclass(frozen=True)
class Focus:
    """What the figure emphasises on this step (everything else of the region stays faint)."""

    landmarks: tuple[str, ...] = ()
    nerves: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.landmarks or self.nerves or self.sites or self.avoid)


@dataclass(frozen=True)
class StepPage:
    """Everything one step shows, as plain text (the page escapes it)."""

    heading: str
    kind_label: str
    text: str
    points: tuple[str, ...]
    landmarks: tuple[LandmarkNote, ...]
    shown: tuple[str, ...]  # "Nerve: ...", "Site: ...", "Avoid: ..." lines
    references: tuple[str, ...]
    focus: Focus = field(default_factory=Focus)


def step_page(atlas: Atlas, step: StepModel) -> StepPage:
    landmarks = tuple(
        LandmarkNote(atlas.landmarks[i].name, atlas.landmarks[i].palpation, atlas.landmarks[i].definition)
        for i in step.landmarks
        if i in atlas.landmarks
    )
    shown = [
        *(f"Nerve: {atlas.nerves[i].name}" for i in step.nerves if i in atlas.nerves),
        *(f"Site {n}: {atlas.sites[i].name}" for n, i in enumerate(step.sites, 1) if i in atlas.sites),
        *(
            f"Avoid: {atlas.avoid[i].name} (keep {atlas.avoid[i].safety_radius_cm:g} cm away)"
            for i in step.avoid
            if i in atlas.avoid
        ),
    ]
    refs = tuple(atlas.references[r].citation for r in step.references if r in atlas.references)
    return StepPage(
        heading=step.title,
        kind_label=STEP_KIND_LABELS[step.kind],
        text=step.text,
        points=tuple(step.points),
        landmarks=landmarks,
        shown=tuple(shown),
        references=refs,
        focus=Focus(tuple(step.landmarks), tuple(step.nerves), tuple(step.sites), tuple(step.avoid)),
    )


def landmark_hover(atlas: Atlas, landmark_id: str) -> list[str]:
    """Hover lines of a highlighted landmark: the same words as the explorer's."""
    return landmark_hover_lines(atlas.landmarks[landmark_id])


def view_for(atlas: Atlas, lesson: LessonFile, side: str) -> str | None:
    """The full view id the lesson's figure uses on ``side`` (None: a lesson without a body)."""
    ids = lesson_view_ids(atlas, lesson)
    return next((v for v in ids if atlas.views[v].side == side), ids[0] if ids else None)


def check_questions(lesson: LessonFile, questions: Mapping[str, QuestionModel]) -> list[QuestionModel]:
    """The lesson's check questions that exist and can be answered here (``validate`` reports
    the others; the page never fails on a bank edited since)."""
    return [questions[q] for q in lesson.check if q in questions and answerable_in_place(questions[q])]


def practice_params(lesson: LessonFile, questions: Mapping[str, QuestionModel]) -> dict[str, str] | None:
    """Query parameters of the Practice link that starts a session with the lesson's questions
    on the body (None: the lesson has none)."""
    ids = [q for q in lesson.practice if q in questions]
    return {"questions": ",".join(ids)} if ids else None


def score_check(atlas: Atlas, question: QuestionModel, chosen: Sequence[int]) -> Result:
    """Score a check question from the options picked (file indexes), as Practice scores it."""
    return score(question, Answer(choices=tuple(chosen)), None, atlas)


def check_summary(results: Mapping[str, Result], questions: Sequence[QuestionModel]) -> str | None:
    """One line once every check question is answered (None before)."""
    if not questions or any(q.id not in results for q in questions):
        return None
    right = sum(1 for q in questions if results[q.id].credit >= 0.999)
    return f"{right} of {len(questions)} right. " + (
        "Well done: try the questions on the body next."
        if right == len(questions)
        else "Read the 'why' under each option, then go back over the steps."
    )
