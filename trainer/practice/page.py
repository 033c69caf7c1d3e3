"""The Practice page's decisions, apart from its widgets: what it shows, which buttons are
enabled, how many pins each part takes, how an answer is built and what a submit stores.

Pure: time and randomness are passed in; ``trainer/ui/pages/practice.py`` lays out widgets
and calls these functions. A question is answered in parts (:func:`trainer.quiz.kinds.parts`):
a case may have any number of placing steps and choice steps, in any order; taps go to the
placing part the learner has selected (:attr:`Draft.active`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.practice import hints
from trainer.practice.hints import Hint
from trainer.quiz.answers import Point, build_answer
from trainer.quiz.kinds import (
    OWN,
    Part,
    asks_choices,
    is_case,
    is_multi_site,
    is_trace,
    parts,
    placing_parts,
    shows_picture,
    type_label,
)
from trainer.quiz.models import QuestionModel
from trainer.quiz.views import ANY_SIDE, base_views, view_id_for, view_name
from trainer.scoring.results import Result
from trainer.scoring.score import count_noun, extra_pin_policy_text, score, trace_instructions

FULL_CREDIT = 0.999


# ------------------------------------------------------------------------------ a session


def new_session(
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    ids: Sequence[str],
    rng: random.Random,
    started_s: float,
    side: str | None = None,
) -> dict[str, Any]:
    """A practice session over ``ids``: each question's view gets a side (random unless a
    link asked for one: "right" or "left"; a question without that side keeps a random one)."""
    views: dict[str, str | None] = {}
    for qid in ids:
        ref = questions[qid].view
        chosen = view_id_for(atlas, ref, side, rng) if side in ("right", "left") else None
        views[qid] = chosen or view_id_for(atlas, ref, ANY_SIDE, rng)
    return {"ids": list(ids), "views": views, "index": 0, "results": [], "started": started_s}


def linked_ids(questions: Mapping[str, QuestionModel], query: str) -> list[str]:
    """The questions named by a ``?questions=id1,id2`` link that exist."""
    return [x for x in query.split(",") if x in questions]


def progress_text(index: int, n_questions: int, q: QuestionModel) -> str:
    return f"Question {index + 1} of {n_questions} · {type_label(q)}"


# ------------------------------------------------------------------------------ an answer in progress


@dataclass
class Draft:
    """The learner's answer in progress: pins per placing part and the part taps go to.

    Options picked live in the widgets and are passed to :func:`can_submit` and :func:`submit`.
    """

    pins: dict[int, list[Point]] = field(default_factory=dict)
    active: int | None = None
    hints: list[str] = field(default_factory=list)  # hint ids asked for, in order

    def active_pins(self) -> list[Point]:
        return self.pins.get(self.active, []) if self.active is not None else []

    def all_pins(self) -> list[Point]:
        """Every pin placed, in part order: what the board shows."""
        return [p for k in sorted(self.pins) for p in self.pins[k]]


def view_caption(atlas: Atlas, view: RenderedView) -> str:
    """Region, which of its views (when it has several), side and body under the question: the
    side views of a limb look alike, and the learner should know which face they are tapping."""
    v = atlas.views[view.view_id]
    parts = [atlas.regions[v.region].name if v.region in atlas.regions else v.region]
    if len(base_views(atlas, v.region)) > 1:
        parts.append(view_name(atlas, v.region, v.base_id))
    parts.append("midline" if v.side == "midline" else f"{v.side} side")
    body = atlas.body_types.get(view.body_type)
    parts.append(body.name if body is not None else view.body_type)
    return " · ".join(parts)


def new_draft(q: QuestionModel) -> Draft:
    placing = placing_parts(q)
    return Draft({p.index: [] for p in placing}, placing[0].index if placing else None)


def _part(q: QuestionModel, index: int | None) -> Part | None:
    return next((p for p in parts(q) if p.index == index), None)


def add_pin(q: QuestionModel, draft: Draft, pt: Point) -> bool:
    """A tap on the board: a single-pin part moves its pin; others add up to their maximum.
    Returns whether anything changed."""
    part = _part(q, draft.active)
    if part is None or not part.places_pins:
        return False
    pins = draft.pins.setdefault(part.index, [])
    if part.max_pins == 1:
        pins[:] = [pt]
        return True
    if len(pins) < part.max_pins:
        pins.append(pt)
        return True
    return False


def move_last_pin(q: QuestionModel, draft: Draft, pt: Point) -> bool:
    """An arrow-key nudge on the board: the active part's last pin moves to ``pt``.
    Returns whether there was a pin to move."""
    part = _part(q, draft.active)
    pins = draft.pins.get(part.index) if part is not None and part.places_pins else None
    if not pins:
        return False
    pins[-1] = pt
    return True


def undo_pin(draft: Draft) -> None:
    if draft.active_pins():
        draft.pins[draft.active].pop()  # type: ignore[index]


def offered_hints(q: QuestionModel, atlas: Atlas, draft: Draft, answered: bool) -> list[tuple[Hint, bool]]:
    """Each hint offered for this question and whether its button is enabled (not yet used)."""
    return [(h, not answered and h.id not in draft.hints) for h in hints.available(q, atlas)]


def use_hint(q: QuestionModel, atlas: Atlas, draft: Draft, hint_id: str) -> bool:
    """Ask for a hint (once); returns whether it was offered and newly used."""
    if hint_id in draft.hints or hint_id not in {h.id for h in hints.available(q, atlas)}:
        return False
    draft.hints.append(hint_id)
    return True


def clear_pins(draft: Draft) -> None:
    if draft.active is not None:
        draft.pins[draft.active] = []


def select_part(q: QuestionModel, draft: Draft, index: int) -> None:
    """Send the next taps to another placing step of a case."""
    part = _part(q, index)
    if part is not None and part.places_pins:
        draft.active = index


@dataclass(frozen=True)
class PartLine:
    """One step of a case as the page lists it."""

    index: int
    text: str
    places_pins: bool


def part_lines(q: QuestionModel, draft: Draft) -> list[PartLine]:
    """'Step 2: Place the landmarks (on the image, 1 of 2 pins)' for each step of a case."""
    if not is_case(q):
        return []
    out = []
    for p in parts(q):
        if p.places_pins:
            n = len(draft.pins.get(p.index, []))
            text = f"Step {p.index + 1}: {p.prompt} (on the image, {n} of {p.min_pins} placed)"
        else:
            text = f"Step {p.index + 1}: {p.prompt}"
        out.append(PartLine(p.index, text, p.places_pins))
    return out


def placing_choices(q: QuestionModel, draft: Draft) -> list[tuple[int, str]]:
    """The placing steps a learner can send taps to, when a case has more than one."""
    placing = placing_parts(q)
    if len(placing) < 2:
        return []
    return [
        (p.index, f"Step {p.index + 1} ({len(draft.pins.get(p.index, []))}/{p.min_pins} pins)")
        for p in placing
    ]


# ------------------------------------------------------------------------------ what the page shows


@dataclass(frozen=True)
class Board:
    """The answer surface: shown at all, accepting taps, its hint and the pins drawn."""

    shown: bool
    active: bool
    hint: str
    pins: list[Point]
    max_pins: int
    can_undo: bool
    can_clear: bool


def board(q: QuestionModel, has_view: bool, draft: Draft, answered: bool) -> Board:
    part = _part(q, draft.active)
    hi = part.max_pins if part is not None else 0
    shown = has_view and (hi > 0 or shows_picture(q))
    n = len(draft.active_pins())
    if answered or hi == 0:
        hint = ""
    elif hi == 1:
        hint = "Tap where you would inject."
    else:
        hint = f"Tap to add pins ({n} placed)."
    return Board(
        shown=shown,
        active=shown and not answered and hi > 0,
        hint=hint,
        pins=draft.all_pins(),
        max_pins=hi,
        can_undo=not answered and hi > 0 and n > 0,
        can_clear=not answered and hi > 1 and n > 0,
    )


def instructions(q: QuestionModel, draft: Draft) -> str:
    """The caption above the board: which case step, how many pins and what extra pins cost;
    how to trace."""
    part = _part(q, draft.active)
    if part is None:
        return ""
    if is_trace(q):
        return trace_instructions(q) + " Then submit."
    # A case names the step the taps go to, so a phone shows it above the image, not only in
    # the step list below.
    step = f"Step {part.index + 1}: {part.prompt} " if part.is_step else ""
    if is_multi_site(q) or (part.is_step and part.max_pins > 1):
        return step + f"Place {count_noun(part.min_pins, 'pin')}. " + extra_pin_policy_text(q.extra_pins)
    return step.strip()


def asks_own_choices(q: QuestionModel) -> bool:
    """The question's own options are shown (identify, clinical, territory by name)."""
    return asks_choices(q)


def can_submit(q: QuestionModel, draft: Draft, choices_by_part: Mapping[int, Sequence[int]]) -> bool:
    """Every placing part has its minimum of pins; a choice question has a pick."""
    if asks_choices(q):
        return bool(choices_by_part.get(OWN))
    return all(len(draft.pins.get(p.index, [])) >= p.min_pins for p in placing_parts(q))


def submit(
    q: QuestionModel,
    draft: Draft,
    choices_by_part: Mapping[int, Sequence[int]],
    view: RenderedView | None,
    atlas: Atlas,
) -> Result:
    """Build the answer from every part, score it (the one scorer) and take off the hints' cost."""
    return hints.apply(score(q, build_answer(q, draft.pins, choices_by_part), view, atlas), draft.hints)


def anonymous_attempt(
    q: QuestionModel, view: RenderedView | None, result: Result, duration_ms: int, now: datetime
) -> dict[str, Any]:
    """What a submit stores for a learner without a profile (kept in the browser session only)."""
    from trainer.progress.learning import attempt_fields

    return {
        "question_id": q.id,
        "view_id": view.view_id if view else None,
        "credit": result.credit,
        "duration_ms": duration_ms,
        "created_at": now,
        **attempt_fields(result),
    }


# ------------------------------------------------------------------------------ after the answer

Tone = Literal["success", "warning", "error"]


def tone(result: Result) -> Tone:
    return "success" if result.credit >= FULL_CREDIT else ("warning" if result.credit > 0 else "error")


def headline(result: Result) -> str:
    return f"{result.percent}% — {result.feedback}"


def nearest_note(result: Result) -> str | None:
    """'Nearest structure to your pin: ...' for the first pin on the body that has one."""
    for pr in [*result.pins, *(p for s in result.steps for p in s.pins)]:
        if pr.nearest_name and pr.nearest_cm is not None and pr.on_body:
            return f"Nearest structure to your pin: {pr.nearest_name} ({pr.nearest_cm:.1f} cm)."
    return None


def references_note(atlas: Atlas, result: Result) -> str | None:
    refs = [atlas.references[r].citation for r in result.references if r in atlas.references]
    return ("Reference: " + " · ".join(refs)) if refs else None


def next_label(index: int, n_questions: int) -> str:
    return "Next question" if index + 1 < n_questions else "See summary"


def session_score(results: Sequence[tuple[str, Result]]) -> float:
    """Mean credit over the session (0 when nothing was answered)."""
    return sum(r.credit for _, r in results) / max(1, len(results))
